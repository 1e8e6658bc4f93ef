//! The budget topic takes anything anyone publishes to it: the notification parser
//! never panics, on arbitrary text or on real notifications cut, spliced and mangled.

use proptest::prelude::*;
use staging_core::decide::budget::{Message, parse_amount, parse_message};

fn sample() -> String {
    let event: serde_json::Value =
        serde_json::from_str(include_str!("../../events/budget-alert.actual-over.json")).unwrap();
    event["Records"][0]["Sns"]["Message"].as_str().unwrap().to_string()
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".*",
        (any::<prop::sample::Index>()).prop_map(|at| {
            let s = sample();
            let cut = s.char_indices().map(|(i, _)| i).nth(at.index(s.chars().count())).unwrap_or(s.len());
            s[..cut].to_string()
        }),
        (any::<prop::sample::Index>(), ".{0,20}").prop_map(|(at, insert)| {
            let mut s = sample();
            let boundaries: Vec<usize> = s.char_indices().map(|(i, _)| i).collect();
            s.insert_str(boundaries[at.index(boundaries.len())], &insert);
            s
        }),
        ("[$£€]?[0-9,.]{0,30}( [A-Z]{3})?", "(ACTUAL|FORECASTED|actual|other)").prop_map(|(amount, kind)| {
            sample().replace("$6.42", &amount).replace("Alert Type: ACTUAL", &format!("Alert Type: {kind}"))
        }),
    ]
}

proptest! {
    #[test]
    fn the_parser_never_panics_and_a_parsed_alert_has_its_figures(subject in proptest::option::of(".{0,80}"), text in text()) {
        if let Ok(Message::Alert(alert)) = parse_message(subject.as_deref(), &text) {
            prop_assert!(!alert.budget_name.is_empty());
            let _ = (alert.threshold_percent(), alert.amount_percent(), alert.amount.to_string());
        }
    }

    #[test]
    fn amounts_never_panic(text in ".{0,40}") {
        let _ = parse_amount(&text);
    }
}
