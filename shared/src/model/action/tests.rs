use super::*;

#[test]
fn subjects_are_cut_to_one_hundred_characters_on_a_char_boundary() {
    let cases = [
        ("short", "short".to_string()),
        (&"é".repeat(100), "é".repeat(100)),
        (&"é".repeat(101), format!("{}…", "é".repeat(99))),
        ("two\nlines", "two lines".to_string()),
    ];
    for (input, expected) in cases {
        let n = Notification::new(NotificationEvent::EnvHold, Severity::Info, input, "");
        assert_eq!(n.subject, expected);
        assert!(n.subject.chars().count() <= MAX_SUBJECT_CHARS);
    }
}

#[test]
fn the_sns_message_carries_text_for_people_and_chatbot_json_for_programs() {
    let n = Notification::new(
        NotificationEvent::BudgetLocked,
        Severity::Critical,
        "staging: locked",
        "Spend passed the budget.",
    );
    let structure: serde_json::Value = serde_json::from_str(&n.sns_message()).unwrap();
    for key in ["default", "email"] {
        assert_eq!(
            structure[key],
            "staging: locked\n\nSpend passed the budget.\n\n-- \nseverity: critical | event: budget.locked\n"
        );
    }
    for key in ["https", "lambda", "sqs"] {
        let chatbot: serde_json::Value = serde_json::from_str(structure[key].as_str().unwrap()).unwrap();
        assert_eq!(chatbot["version"], "1.0");
        assert_eq!(chatbot["source"], "custom");
        assert_eq!(chatbot["content"]["textType"], "client-markdown");
        assert_eq!(chatbot["content"]["title"], "staging: locked");
        assert_eq!(chatbot["content"]["description"], "Spend passed the budget.");
    }
}

#[test]
fn event_names_match_their_serialized_form() {
    use NotificationEvent::*;
    for e in [
        DeployPlanned,
        DeployPending,
        DeploySucceeded,
        DeployFailed,
        EnvStartup,
        EnvTeardown,
        EnvHold,
        BudgetWarning,
        BudgetLocked,
        BudgetUnlocked,
        CostReport,
        HealthDown,
        HealthResolved,
        HealthDegraded,
        HealthHealing,
        DeployRolledBack,
        IdleWarning,
        IdleCancelled,
        IdleNoData,
    ] {
        assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
    }
}

#[test]
fn actions_serialize_with_their_wire_names() {
    let notify = Action::Notify(Notification::new(NotificationEvent::HealthResolved, Severity::Info, "s", "b"));
    let json = serde_json::to_value(&notify).unwrap();
    assert_eq!(json["action"], "notify");
    assert_eq!(json["event"], "health.resolved");
    assert_eq!(json["severity"], "info");

    let put = Action::PutOneTimeSchedule {
        name: "hold-expiry".into(),
        at: "2026-11-27T20:00:00Z".parse().unwrap(),
        command: ScheduledCommand::HoldExpired { until: "2026-11-27T20:00:00Z".parse().unwrap() },
    };
    let json = serde_json::to_value(&put).unwrap();
    assert_eq!(json["at"], "2026-11-27T20:00:00Z");
    assert_eq!(json["command"]["command"], "hold_expired");
}

#[test]
fn scheduled_commands_round_trip_as_the_schedule_input() {
    let cmd = ScheduledCommand::HoldExpired { until: "2026-11-27T20:00:00Z".parse().unwrap() };
    let json = serde_json::to_string(&cmd).unwrap();
    assert_eq!(json, r#"{"command":"hold_expired","until":1795809600}"#);
    assert_eq!(serde_json::from_str::<ScheduledCommand>(&json).unwrap(), cmd);
    assert_eq!(
        serde_json::from_str::<ScheduledCommand>(r#"{"command":"teardown"}"#).unwrap(),
        ScheduledCommand::Teardown { scheduled_time: None }
    );
}

#[test]
fn a_scheduled_command_carries_when_it_was_due_and_a_hand_sent_one_does_not() {
    // What EventBridge Scheduler sends once it has filled in <aws.scheduler.scheduled-time>.
    let scheduled: ScheduledCommand =
        serde_json::from_str(r#"{"command":"teardown","scheduled_time":"2026-11-27T18:00:00Z"}"#).unwrap();
    assert_eq!(scheduled.due(), Some("2026-11-27T18:00:00Z".parse::<DateTime<Utc>>().unwrap()));
    let by_hand: ScheduledCommand = serde_json::from_str(r#"{"command":"startup"}"#).unwrap();
    assert_eq!(by_hand.due(), None);
    let text = serde_json::to_string(&scheduled).unwrap();
    assert_eq!(text, r#"{"command":"teardown","scheduled_time":"2026-11-27T18:00:00Z"}"#);
}
