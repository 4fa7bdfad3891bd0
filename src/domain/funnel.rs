//! The funnel: stages, outcomes, and which moves between them are allowed.
//!
//! Stages run in order; an active idea moves forward one stage at a time or back any number
//! (the process is iterative), and may leave the portfolio with any outcome from any stage. An
//! idea that has left can be reactivated into any stage (e.g. after a terminated licence).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where an active idea is in the funnel, in order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    PreScreening,
    Evaluation,
    Validation,
    Development,
    Commercialisation,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Stage::PreScreening,
        Stage::Evaluation,
        Stage::Validation,
        Stage::Development,
        Stage::Commercialisation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::PreScreening => "pre_screening",
            Stage::Evaluation => "evaluation",
            Stage::Validation => "validation",
            Stage::Development => "development",
            Stage::Commercialisation => "commercialisation",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn index(self) -> usize {
        Stage::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    pub fn next(self) -> Option<Stage> {
        Stage::ALL.get(self.index() + 1).copied()
    }
}

/// How an idea left the active portfolio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Closed,
    PassedOnInternal,
    PassedOnExternal,
    Commercialised,
    Implemented,
    RightsReturned,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::Closed,
        Outcome::PassedOnInternal,
        Outcome::PassedOnExternal,
        Outcome::Commercialised,
        Outcome::Implemented,
        Outcome::RightsReturned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Closed => "closed",
            Outcome::PassedOnInternal => "passed_on_internal",
            Outcome::PassedOnExternal => "passed_on_external",
            Outcome::Commercialised => "commercialised",
            Outcome::Implemented => "implemented",
            Outcome::RightsReturned => "rights_returned",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn is_passed_on(self) -> bool {
        matches!(self, Outcome::PassedOnInternal | Outcome::PassedOnExternal)
    }
}

/// A point in the funnel: a stage, or an outcome (with the stage the idea left from).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub stage: Stage,
    pub outcome: Option<Outcome>,
}

/// Where a transition goes: a stage or an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Stage(Stage),
    Outcome(Outcome),
}

impl Target {
    pub fn parse(s: &str) -> Option<Target> {
        Stage::parse(s)
            .map(Target::Stage)
            .or_else(|| Outcome::parse(s).map(Target::Outcome))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Target::Stage(s) => s.as_str(),
            Target::Outcome(o) => o.as_str(),
        }
    }
}

/// Kinds of intake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdeaKind {
    /// A clinical need or problem, often with no solution yet.
    IdeaProblem,
    /// A concrete solution from clinical staff.
    ClinicalInvention,
    /// An invention from research results (the Danish Act on Inventions applies).
    ResearchInvention,
}

impl IdeaKind {
    pub const ALL: [IdeaKind; 3] = [
        IdeaKind::IdeaProblem,
        IdeaKind::ClinicalInvention,
        IdeaKind::ResearchInvention,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdeaKind::IdeaProblem => "idea_problem",
            IdeaKind::ClinicalInvention => "clinical_invention",
            IdeaKind::ResearchInvention => "research_invention",
        }
    }

    pub fn parse(s: &str) -> Option<IdeaKind> {
        IdeaKind::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Inventions need a rights decision within the deadline.
    pub fn is_invention(self) -> bool {
        !matches!(self, IdeaKind::IdeaProblem)
    }
}

/// Product or service (process/organisation) innovation; an idea can switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InnovationType {
    Product,
    Service,
}

impl InnovationType {
    pub fn as_str(self) -> &'static str {
        match self {
            InnovationType::Product => "product",
            InnovationType::Service => "service",
        }
    }

    pub fn parse(s: &str) -> Option<InnovationType> {
        [InnovationType::Product, InnovationType::Service]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// The institution's decision on an invention's rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RightsDecision {
    /// The institution takes over the rights (and must seek commercialisation).
    TakeOver,
    /// The rights are released to the inventor.
    Release,
}

impl RightsDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            RightsDecision::TakeOver => "take_over",
            RightsDecision::Release => "release",
        }
    }

    pub fn parse(s: &str) -> Option<RightsDecision> {
        [RightsDecision::TakeOver, RightsDecision::Release]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// Every target reachable from `from` by the funnel's shape alone.
pub fn allowed_targets(from: Position) -> Vec<Target> {
    let mut out = Vec::new();
    match from.outcome {
        None => {
            for s in Stage::ALL {
                if s < from.stage || Some(s) == from.stage.next() {
                    out.push(Target::Stage(s));
                }
            }
            out.extend(Outcome::ALL.into_iter().map(Target::Outcome));
        }
        Some(_) => out.extend(Stage::ALL.into_iter().map(Target::Stage)),
    }
    out
}

/// Facts about an idea that some moves depend on.
#[derive(Debug, Clone, Default)]
pub struct MoveContext {
    pub kind: Option<IdeaKind>,
    pub rights_decision: Option<RightsDecision>,
    /// Whether the checklist of the stage being left forward is complete.
    pub checklist_complete: bool,
}

/// What a transition request carries besides its target.
#[derive(Debug, Clone, Default)]
pub struct MoveRequest {
    pub reason: Option<String>,
    pub override_reason: Option<String>,
    pub recipient_organisation_id: Option<i64>,
}

/// Why a move is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveError {
    /// Not a move the funnel allows from here; carries the allowed targets.
    NotAllowed { allowed: Vec<&'static str> },
    /// A field the move needs is missing.
    Missing {
        field: &'static str,
        message: &'static str,
    },
    /// An invention cannot enter validation before the rights are taken over.
    RightsNotTakenOver,
    /// The checklist of the stage being left is incomplete and no override reason was given.
    ChecklistIncomplete { stage: Stage },
}

/// Checks a move; `Ok` means it may be recorded.
pub fn check_move(
    from: Position,
    to: Target,
    ctx: &MoveContext,
    req: &MoveRequest,
) -> Result<(), MoveError> {
    let allowed = allowed_targets(from);
    if !allowed.contains(&to) {
        return Err(MoveError::NotAllowed {
            allowed: allowed.iter().map(|t| t.as_str()).collect(),
        });
    }
    let has = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.trim().is_empty());
    match to {
        Target::Outcome(o) => {
            if o == Outcome::Closed && !has(&req.reason) {
                return Err(MoveError::Missing {
                    field: "reason",
                    message: "closing an idea requires a reason",
                });
            }
            if o.is_passed_on() && req.recipient_organisation_id.is_none() {
                return Err(MoveError::Missing {
                    field: "recipient_organisation_id",
                    message: "passing an idea on requires the recipient organisation",
                });
            }
        }
        Target::Stage(s) => {
            let forward = from.outcome.is_none() && s > from.stage;
            if s >= Stage::Validation
                && ctx.kind.is_some_and(IdeaKind::is_invention)
                && ctx.rights_decision != Some(RightsDecision::TakeOver)
                && (forward || from.outcome.is_some())
            {
                return Err(MoveError::RightsNotTakenOver);
            }
            if forward && !ctx.checklist_complete && !has(&req.override_reason) {
                return Err(MoveError::ChecklistIncomplete { stage: from.stage });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(stage: Stage) -> Position {
        Position {
            stage,
            outcome: None,
        }
    }

    fn ok_ctx() -> MoveContext {
        MoveContext {
            kind: Some(IdeaKind::ClinicalInvention),
            rights_decision: Some(RightsDecision::TakeOver),
            checklist_complete: true,
        }
    }

    #[test]
    fn forward_one_stage_back_any_number_and_out_from_anywhere() {
        let from = at(Stage::Validation);
        let targets: Vec<&str> = allowed_targets(from).iter().map(|t| t.as_str()).collect();
        assert_eq!(
            targets,
            [
                "pre_screening",
                "evaluation",
                "development",
                "closed",
                "passed_on_internal",
                "passed_on_external",
                "commercialised",
                "implemented",
                "rights_returned"
            ]
        );
        let req = MoveRequest::default();
        assert!(check_move(from, Target::Stage(Stage::Development), &ok_ctx(), &req).is_ok());
        assert!(check_move(from, Target::Stage(Stage::PreScreening), &ok_ctx(), &req).is_ok());
        assert!(matches!(
            check_move(
                from,
                Target::Stage(Stage::Commercialisation),
                &ok_ctx(),
                &req
            ),
            Err(MoveError::NotAllowed { .. })
        ));
        assert!(matches!(
            check_move(from, Target::Stage(Stage::Validation), &ok_ctx(), &req),
            Err(MoveError::NotAllowed { .. })
        ));
    }

    #[test]
    fn an_idea_that_left_can_only_be_reactivated() {
        let from = Position {
            stage: Stage::Commercialisation,
            outcome: Some(Outcome::Commercialised),
        };
        let req = MoveRequest::default();
        assert!(check_move(from, Target::Stage(Stage::Development), &ok_ctx(), &req).is_ok());
        assert!(matches!(
            check_move(from, Target::Outcome(Outcome::Closed), &ok_ctx(), &req),
            Err(MoveError::NotAllowed { .. })
        ));
    }

    #[test]
    fn closing_needs_a_reason_and_passing_on_a_recipient() {
        let from = at(Stage::PreScreening);
        let none = MoveRequest::default();
        assert_eq!(
            check_move(from, Target::Outcome(Outcome::Closed), &ok_ctx(), &none),
            Err(MoveError::Missing {
                field: "reason",
                message: "closing an idea requires a reason"
            })
        );
        let blank = MoveRequest {
            reason: Some("  ".into()),
            ..Default::default()
        };
        assert!(check_move(from, Target::Outcome(Outcome::Closed), &ok_ctx(), &blank).is_err());
        assert!(matches!(
            check_move(
                from,
                Target::Outcome(Outcome::PassedOnExternal),
                &ok_ctx(),
                &none
            ),
            Err(MoveError::Missing {
                field: "recipient_organisation_id",
                ..
            })
        ));
    }

    #[test]
    fn inventions_enter_validation_only_after_take_over() {
        let mut ctx = ok_ctx();
        ctx.rights_decision = None;
        let r = check_move(
            at(Stage::Evaluation),
            Target::Stage(Stage::Validation),
            &ctx,
            &MoveRequest::default(),
        );
        assert_eq!(r, Err(MoveError::RightsNotTakenOver));
        ctx.rights_decision = Some(RightsDecision::Release);
        let r = check_move(
            at(Stage::Evaluation),
            Target::Stage(Stage::Validation),
            &ctx,
            &MoveRequest::default(),
        );
        assert_eq!(r, Err(MoveError::RightsNotTakenOver));
        ctx.kind = Some(IdeaKind::IdeaProblem);
        assert!(check_move(
            at(Stage::Evaluation),
            Target::Stage(Stage::Validation),
            &ctx,
            &MoveRequest::default()
        )
        .is_ok());
    }

    #[test]
    fn leaving_a_stage_forward_needs_its_checklist_or_an_override() {
        let mut ctx = ok_ctx();
        ctx.checklist_complete = false;
        let from = at(Stage::PreScreening);
        let to = Target::Stage(Stage::Evaluation);
        assert_eq!(
            check_move(from, to, &ctx, &MoveRequest::default()),
            Err(MoveError::ChecklistIncomplete {
                stage: Stage::PreScreening
            })
        );
        let req = MoveRequest {
            override_reason: Some("urgent clinical need".into()),
            ..Default::default()
        };
        assert!(check_move(from, to, &ctx, &req).is_ok());
        assert!(check_move(
            at(Stage::Evaluation),
            Target::Stage(Stage::PreScreening),
            &ctx,
            &MoveRequest::default()
        )
        .is_ok());
    }
}
