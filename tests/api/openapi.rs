use crate::helpers::TestApp;

#[test]
fn the_committed_openapi_spec_matches_the_code() {
    let generated =
        serde_json::to_string_pretty(&innofolio::app::openapi_json()).expect("spec serialises");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "openapi/openapi.json is out of date; regenerate it with:\n    cargo run -q -- openapi > openapi/openapi.json"
    );
}

#[test]
fn the_served_spec_is_the_committed_one() {
    let app = TestApp::spawn();
    let served = app.send("GET", "/openapi.json", None, &[], None).json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(served, committed);
}

#[test]
fn every_operation_documents_its_security_and_problem_responses() {
    let spec: serde_json::Value = innofolio::app::openapi_json();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.contains_key("500"),
                "{method} {path} documents 500"
            );
            if innofolio::openapi::PUBLIC_PATHS.contains(&path.as_str()) {
                assert!(op.get("security").is_none(), "{method} {path} is public");
            } else {
                assert_eq!(
                    op["security"][0]["api_key"],
                    serde_json::json!([]),
                    "{method} {path}"
                );
                for status in ["401", "403"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path} documents {status}"
                    );
                }
            }
            assert!(op["operationId"].is_string());
        }
    }
}

#[test]
fn both_backends_have_the_same_migrations() {
    let names = |dir: &str| {
        let mut v: Vec<String> =
            std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
        v.sort();
        v
    };
    let sqlite = names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, names("postgres"));
    for name in &sqlite {
        for dir in ["sqlite", "postgres"] {
            for file in ["up.sql", "down.sql"] {
                let p = format!(
                    "{}/migrations/{dir}/{name}/{file}",
                    env!("CARGO_MANIFEST_DIR")
                );
                assert!(std::path::Path::new(&p).exists(), "{p} exists");
            }
        }
    }
}
