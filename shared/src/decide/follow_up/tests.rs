use super::*;
use crate::DeploymentType;

fn dispatch(sha: &str) -> Action {
    Action::DispatchDeploy {
        git_ref: "develop".into(),
        sha: sha.into(),
        deployment_type: DeploymentType::BackendOnly,
        skip_tests: false,
        migrate: false,
    }
}

fn failed(action: &Action, refused: bool, retryable: bool) -> Failed<'_> {
    Failed { action, refused, retryable, error: format!("{action:?} failed") }
}

fn notice(event: NotificationEvent, severity: Severity) -> Notification {
    Notification::new(event, severity, "subject", "body")
}

#[test]
fn failed_dispatches_come_first_then_repairs_and_nothing_else() {
    let (d1, d2) = (dispatch("aaa"), dispatch("bbb"));
    let rollback = Action::RollbackService { task_definition: "api:7".into() };
    let pause = Action::PauseStack { keep_service: false };
    let scale = Action::ScaleService { desired_count: 0 };
    let all = [
        failed(&rollback, true, false),
        failed(&d1, true, false),
        failed(&scale, false, true),
        failed(&pause, true, false),
        failed(&d2, false, true),
    ];
    let kinds: Vec<String> = after(&all)
        .iter()
        .map(|f| match f {
            FollowUp::DispatchFailed { sha, refused, .. } => format!("dispatch {sha} refused={refused}"),
            FollowUp::RepairFailed { action, .. } => format!("repair {action:?}"),
            FollowUp::StackRefused { operation, .. } => format!("stack {operation:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "dispatch aaa refused=true",
            "dispatch bbb refused=false",
            "repair RollbackService { task_definition: \"api:7\" }"
        ]
    );
}

#[test]
fn a_refused_stack_operation_is_followed_up_once_and_a_passing_fault_not_at_all() {
    let (pause, resume) = (Action::PauseStack { keep_service: false }, Action::ResumeStack);
    #[rustfmt::skip]
    let cases: Vec<(Vec<Failed<'_>>, Vec<StackOperation>)> = vec![
        (vec![failed(&pause, true, false)], vec![StackOperation::Delete]),
        (vec![failed(&pause, true, false), failed(&pause, true, false)], vec![StackOperation::Delete]),
        (vec![failed(&pause, false, true)], vec![]),
        (vec![failed(&resume, true, false), failed(&pause, true, false)], vec![StackOperation::Create, StackOperation::Delete]),
        (vec![failed(&Action::ForceNewDeployment, true, false)], vec![]),
    ];
    for (failures, expected) in cases {
        let got: Vec<StackOperation> = stack_refusals(&failures)
            .into_iter()
            .map(|f| match f {
                FollowUp::StackRefused { operation, .. } => operation,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(got, expected, "{failures:?}");
    }
}

#[test]
fn the_notice_announcing_what_failed_is_withheld() {
    use NotificationEvent::*;
    let (pause, resume) = (Action::PauseStack { keep_service: false }, Action::ResumeStack);
    let rollback = Action::RollbackService { task_definition: "api:7".into() };
    let d = dispatch("a");
    #[rustfmt::skip]
    let cases: Vec<(Option<(&Action, bool)>, Notification, bool)> = vec![
        (None, notice(DeployPlanned, Severity::Info), false),
        (Some((&d, false)), notice(DeployPlanned, Severity::Info), true),
        (Some((&d, false)), notice(EnvTeardown, Severity::Info), false),
        (Some((&rollback, false)), notice(HealthDown, Severity::Critical), true),
        (Some((&Action::ForceNewDeployment, true)), notice(HealthHealing, Severity::Warning), true),
        (Some((&rollback, false)), notice(DeployRolledBack, Severity::Warning), true),
        (Some((&pause, false)), notice(EnvTeardown, Severity::Info), true),
        (Some((&pause, false)), notice(EnvTeardown, Severity::Critical), false),
        (Some((&pause, true)), notice(EnvTeardown, Severity::Info), false),
        (Some((&resume, false)), notice(EnvStartup, Severity::Info), true),
        (Some((&resume, true)), notice(EnvStartup, Severity::Info), false),
    ];
    for (failure, n, withheld) in cases {
        let mut w = Withholding::default();
        if let Some((action, retryable)) = failure {
            w.failed(action, retryable);
        }
        assert_eq!(w.withholds(&n), withheld, "{failure:?} {:?}", n.event);
    }
}

#[test]
fn what_touches_the_world_makes_the_runner_look_again() {
    let notify = Action::Notify(notice(NotificationEvent::DeployPlanned, Severity::Info));
    #[rustfmt::skip]
    let cases: Vec<(Action, bool)> = vec![
        (Action::ScaleService { desired_count: 1 }, true),
        (Action::ResumeStack, true),
        (Action::ForceNewDeployment, true),
        (dispatch("a"), false),
        (notify, false),
    ];
    for (action, touches) in cases {
        assert_eq!(touches_world(std::slice::from_ref(&action)), touches, "{action:?}");
    }
    assert!(!touches_world(&[]));
}
