//! Screening checklists: the criteria assessed before an idea may leave a stage forward.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::funnel::{IdeaKind, Stage};

/// An assessor's answer to one criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Yes,
    No,
    Unclear,
}

impl Answer {
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Yes => "yes",
            Answer::No => "no",
            Answer::Unclear => "unclear",
        }
    }

    pub fn parse(s: &str) -> Option<Answer> {
        [Answer::Yes, Answer::No, Answer::Unclear]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// One criterion of a checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Criterion {
    pub key: &'static str,
    pub question: &'static str,
    /// Asked only of inventions (not of ideas/problems).
    pub inventions_only: bool,
}

const fn c(key: &'static str, question: &'static str) -> Criterion {
    Criterion {
        key,
        question,
        inventions_only: false,
    }
}

const PRE_SCREENING: [Criterion; 6] = [
    c("health_related", "Is the idea health-related?"),
    c(
        "innovation_height",
        "Does it have sufficient innovation height?",
    ),
    c(
        "clinical_need_confirmed",
        "Are the problem and the clinical need confirmed?",
    ),
    c(
        "value",
        "Does it create value for patients, staff or the hospital?",
    ),
    c(
        "holder_commitment",
        "Is the idea holder committed to taking it forward?",
    ),
    Criterion {
        key: "novelty_patentability",
        question: "Novelty search and patentability assessment done?",
        inventions_only: true,
    },
];

const EVALUATION: [Criterion; 6] = [
    c("novelty_screening", "Novelty screening done?"),
    c(
        "market_cost_benefit",
        "Market assessment, stakeholder and cost/benefit analysis done?",
    ),
    c(
        "value_to_hospital",
        "Value for the hospital or region assessed?",
    ),
    c(
        "effect_on_cycle_of_care",
        "Effect on the cycle of care assessed?",
    ),
    c("competences_needed", "Extra competences needed identified?"),
    c("unit_role", "The innovation unit's own role settled?"),
];

const VALIDATION: [Criterion; 5] = [
    c("development_strategy", "Development strategy in place?"),
    c("milestones", "Action plan with milestones in place?"),
    c("project_description", "Project description written?"),
    c("business_case", "Business case made?"),
    c("ip_management", "IP management settled?"),
];

/// The checklist of a stage (stages after validation have none).
pub fn criteria(stage: Stage) -> &'static [Criterion] {
    match stage {
        Stage::PreScreening => &PRE_SCREENING,
        Stage::Evaluation => &EVALUATION,
        Stage::Validation => &VALIDATION,
        Stage::Development | Stage::Commercialisation => &[],
    }
}

/// The criteria that apply to an idea of `kind` in `stage`.
pub fn applicable(stage: Stage, kind: IdeaKind) -> impl Iterator<Item = &'static Criterion> {
    criteria(stage)
        .iter()
        .filter(move |c| !c.inventions_only || kind.is_invention())
}

/// Stages that have a checklist.
pub const CHECKLIST_STAGES: [Stage; 3] =
    [Stage::PreScreening, Stage::Evaluation, Stage::Validation];

/// Whether every applicable criterion of `stage` has an answer among `answered` keys.
pub fn is_complete<'a>(
    stage: Stage,
    kind: IdeaKind,
    answered: impl IntoIterator<Item = &'a str>,
) -> bool {
    let answered: Vec<&str> = answered.into_iter().collect();
    applicable(stage, kind).all(|c| answered.contains(&c.key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn novelty_and_patentability_is_asked_of_inventions_only() {
        assert_eq!(
            applicable(Stage::PreScreening, IdeaKind::IdeaProblem).count(),
            5
        );
        assert_eq!(
            applicable(Stage::PreScreening, IdeaKind::ResearchInvention).count(),
            6
        );
        assert_eq!(
            applicable(Stage::Development, IdeaKind::ResearchInvention).count(),
            0
        );
    }

    #[test]
    fn complete_when_every_applicable_criterion_is_answered() {
        let keys: Vec<&str> = criteria(Stage::Evaluation).iter().map(|c| c.key).collect();
        assert!(is_complete(
            Stage::Evaluation,
            IdeaKind::IdeaProblem,
            keys.iter().copied()
        ));
        assert!(!is_complete(
            Stage::Evaluation,
            IdeaKind::IdeaProblem,
            keys[1..].iter().copied()
        ));
        assert!(is_complete(Stage::Development, IdeaKind::IdeaProblem, []));
    }
}
