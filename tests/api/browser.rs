//! The annual report in a real browser: headless Chromium loads the HTML, the test checks the
//! rendered DOM (scorecard rows with their status, both SVG charts with their bars) and saves a
//! screenshot to `target/annual-report.png`.
//!
//! CI installs Debian's `chromium` and sets `INNOFOLIO_REQUIRE_CHROMIUM=1`, so there the test
//! fails rather than skips when the browser is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::TestApp;

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| {
            std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                .unwrap_or_default()
                .into_iter()
                .map(move |dir| dir.join(name))
        })
        .find(|p| p.is_file())
}

fn run(browser: &Path, profile: &Path, args: &[&str]) -> std::process::Output {
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("chromium runs")
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

#[test]
fn the_annual_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var("INNOFOLIO_REQUIRE_CHROMIUM").is_err(),
            "chromium is required here but was not found"
        );
        eprintln!("skipped: no chromium on PATH");
        return;
    };
    let app = TestApp::spawn();
    let db = innofolio::db::Db::connect(&app.db.url).unwrap();
    let today = chrono::Utc::now().date_naive();
    innofolio::demo::generate(&db, 1500, 20261123, today).unwrap();
    let year = chrono::Datelike::year(&today) - 1;
    let r = app.get(&format!("/api/v1/reports/annual?year={year}"));
    assert_eq!(r.status, 200, "{}", r.text);

    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, &r.text).unwrap();
    let url = format!("file://{}", page.display());

    // The DOM as the browser built it.
    let out = run(&browser, &dir.path().join("p1"), &["--dump-dom", &url]);
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("id=\"scorecard-table\""),
        "scorecard rendered: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = dom.matches("class=\"status status-").count();
    assert!(rows >= 5, "a status for each target: {rows}");
    assert_eq!(dom.matches("<svg").count(), 2, "both charts");
    assert!(dom.matches("<rect").count() > 15, "bars drawn");
    assert!(dom.contains("Income and patent costs by year"));

    // A screenshot for people to look at.
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/annual-report.png");
    let _ = std::fs::remove_file(&shot);
    let out = run(
        &browser,
        &dir.path().join("p2"),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,2600",
            &url,
        ],
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(png_size(&png), (1200, 2600));
    // A blank page compresses to a few kilobytes; text, tables and charts do not.
    assert!(
        png.len() > 60_000,
        "the page has content: {} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", shot.display());
}
