//! The template's `AllowedPattern`s against the core's parsers.
//!
//! CloudFormation checks a parameter's `AllowedPattern` when the stack is deployed; the core
//! parses the same text (as a `STAGING_*` variable) when a function starts, and a value it
//! refuses there fails every invocation. The patterns in `template.yaml` are written from the
//! core's grammar; this test holds the two to each other. Each parameter has a table of
//! values, and for each value both verdicts: the pattern's, compiled as CloudFormation applies
//! it (to the whole value, within the parameter's `MinLength` and `MaxLength`), and the core's
//! (`Config::from_lookup` with that variable set: `Ok` accepts, `Err` refuses). Where they
//! differ on purpose the table says so and why.

use regex_automata::hybrid::regex::{Cache, Regex};
use regex_automata::util::syntax;
use serde_yaml_ng::Value;
use staging_core::Config;

/// What the template and the core are expected to say about a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Both accept it.
    Accepted,
    /// Both refuse it.
    Refused,
    /// The template refuses what the core would take, on purpose (why).
    TemplateStricter(&'static str),
    /// The template lets through what the core refuses when a function starts: a check no
    /// pattern can make (why).
    CoreStricter(&'static str),
}

use Expect::{Accepted, CoreStricter, Refused, TemplateStricter};

/// One parameter's table.
struct Parameter {
    /// The template parameter.
    name: &'static str,
    /// The variable the template passes it to the functions as.
    variable: &'static str,
    /// Other variables set beside it, so that a value is judged on its own (a DownTime with
    /// no UpTime to be later than) or, in a second table, against its neighbour.
    with: &'static [(&'static str, &'static str)],
    cases: &'static [(&'static str, Expect)],
}

const EMPTY_DURATION: Expect = TemplateStricter("empty: the core would quietly take its default");

/// Every duration parameter reads the same grammar (humantime, above zero).
const DURATIONS: &[(&str, Expect)] = &[
    ("2h", Accepted),
    ("90m", Accepted),
    ("1h 30m", Accepted),
    ("1h30m", Accepted),
    ("30 min", Accepted),
    ("45s", Accepted),
    ("2 hours", Accepted),
    ("1d", Accepted),
    ("500ms", Accepted),
    ("0h 30m", Accepted),
    ("two hours", Refused),
    ("2", Refused),
    ("0", Refused),
    ("0s", Refused),
    ("0m", Refused),
    ("0h 0m", Refused),
    ("2H", Refused),
    ("2hrs30", Refused),
    ("-5m", Refused),
    ("2h,30m", Refused),
    ("", EMPTY_DURATION),
    ("1.5h", TemplateStricter("whole numbers only: 1h 30m says it")),
    ("1w", TemplateStricter("units up to days")),
];

/// A Parameter Store name of exactly `N` characters: `/`, then `a`s.
const fn parameter_name_of<const N: usize>() -> [u8; N] {
    let mut name = [b'a'; N];
    name[0] = b'/';
    name
}

/// The longest name Parameter Store (and `is_parameter_name`) takes: 1011 characters.
const LONGEST_PARAMETER_NAME: &str = match std::str::from_utf8(&parameter_name_of::<1011>()) {
    Ok(name) => name,
    Err(_) => panic!("ASCII"),
};

/// One character too long.
const PARAMETER_NAME_TOO_LONG: &str = match std::str::from_utf8(&parameter_name_of::<1012>()) {
    Ok(name) => name,
    Err(_) => panic!("ASCII"),
};

const PARAMETERS: &[Parameter] = &[
    Parameter {
        name: "TimeZone",
        variable: "STAGING_TIME_ZONE",
        with: &[],
        cases: &[
            ("UTC", Accepted),
            ("Europe/London", Accepted),
            ("America/Argentina/Buenos_Aires", Accepted),
            ("America/Port-au-Prince", Accepted),
            ("Etc/GMT+1", Accepted),
            ("Europe London", Refused),
            ("+01:00", Refused),
            ("Europe/London/", Refused),
            ("/UTC", Refused),
            ("", TemplateStricter("empty: the schedules need a zone, the core would take UTC")),
            (
                "Mars/Olympus",
                CoreStricter("a well-formed name that is no zone: EventBridge Scheduler refuses it at deploy time"),
            ),
            ("europe/london", CoreStricter("zone names are case-sensitive, and a pattern cannot know the names")),
        ],
    },
    Parameter {
        name: "WorkingDays",
        variable: "STAGING_WORKING_DAYS",
        with: &[],
        cases: &[
            ("Mon-Fri", Accepted),
            ("Mon,Tue,Thu", Accepted),
            ("Mon-Wed,Fri", Accepted),
            ("Mon-Wed, Fri", Accepted),
            ("Mon - Fri", Accepted),
            ("Fri-Mon", Accepted),
            ("mon-fri", Accepted),
            ("Sat", Accepted),
            ("Mon-Fryday", Refused),
            ("Mon-Tue-Wed", Refused),
            ("Mon,,Fri", Refused),
            (",Mon", Refused),
            ("Mon-", Refused),
            ("Mon;Fri", Refused),
            ("M-F", Refused),
            ("Weekdays", Refused),
            ("", TemplateStricter("empty: the core would quietly take Mon-Fri")),
            ("Monday-Friday", TemplateStricter("the three-letter names, as the Description and README write them")),
            ("MON-FRI", TemplateStricter("one spelling a day: Mon or mon")),
        ],
    },
    Parameter {
        name: "UpTime",
        variable: "STAGING_UP_TIME",
        with: &[("STAGING_DOWN_TIME", "23:59")],
        cases: &[
            ("08:00", Accepted),
            ("00:00", Accepted),
            ("23:30", Accepted),
            ("none", Accepted),
            ("8am", Refused),
            ("24:00", Refused),
            ("08:60", Refused),
            ("08:00:00", Refused),
            ("0800", Refused),
            ("8:00", TemplateStricter("HH:MM, one form")),
            (
                "NONE",
                TemplateStricter(
                    "the HasUpTime condition compares with `none` exactly: NONE would become a startup schedule",
                ),
            ),
            ("", TemplateStricter("empty: the core would quietly take 08:00")),
        ],
    },
    Parameter {
        name: "DownTime",
        variable: "STAGING_DOWN_TIME",
        with: &[("STAGING_UP_TIME", "none")],
        cases: &[
            ("18:00", Accepted),
            ("23:59", Accepted),
            ("00:30", Accepted),
            ("25:00", Refused),
            ("18h", Refused),
            ("none", Refused),
            ("", TemplateStricter("empty: the core would quietly take 18:00")),
        ],
    },
    Parameter {
        name: "DownTime",
        variable: "STAGING_DOWN_TIME",
        with: &[("STAGING_UP_TIME", "08:00")],
        cases: &[
            ("18:00", Accepted),
            ("07:00", CoreStricter("later than UpTime: a Rule can test equality, never order")),
            ("08:00", CoreStricter("later than UpTime: a Rule can test equality, never order")),
        ],
    },
    Parameter {
        name: "Holidays",
        variable: "STAGING_HOLIDAYS",
        with: &[],
        cases: &[
            ("", Accepted),
            ("2026-12-25", Accepted),
            ("2026-12-25,2026-12-28", Accepted),
            ("2026-12-25, 2026-12-28", Accepted),
            ("25/12/2026", Refused),
            ("2026-12-25,25/12/2026", Refused),
            ("2026-12-25;2026-12-28", Refused),
            ("2026-13-01", Refused),
            ("2026-12-32", Refused),
            ("Christmas", Refused),
            ("2026-12-25,", TemplateStricter("no empty entries")),
            ("2026-1-5", TemplateStricter("YYYY-MM-DD, zero-padded, one form")),
            ("2026-02-30", CoreStricter("a day its month does not have")),
        ],
    },
    Parameter {
        name: "HoldDefault",
        variable: "STAGING_HOLD_DEFAULT",
        with: &[("STAGING_HOLD_MAX", "1000d")],
        cases: DURATIONS,
    },
    Parameter {
        name: "HoldDefault",
        variable: "STAGING_HOLD_DEFAULT",
        with: &[("STAGING_HOLD_MAX", "12h")],
        cases: &[("12h", Accepted), ("13h", CoreStricter("at most HoldMax: a Rule cannot compare two durations"))],
    },
    Parameter {
        name: "HoldMax",
        variable: "STAGING_HOLD_MAX",
        with: &[("STAGING_HOLD_DEFAULT", "1ms")],
        cases: DURATIONS,
    },
    Parameter { name: "DeployGrace", variable: "STAGING_DEPLOY_GRACE", with: &[], cases: DURATIONS },
    Parameter { name: "HealthReminder", variable: "STAGING_HEALTH_REMINDER", with: &[], cases: DURATIONS },
    Parameter { name: "HealInterval", variable: "STAGING_HEAL_INTERVAL", with: &[], cases: DURATIONS },
    Parameter {
        name: "HealthGrace",
        variable: "STAGING_HEALTH_GRACE",
        with: &[],
        cases: &[
            ("10m", Accepted),
            ("5m", Accepted),
            ("1h 30m", Accepted),
            ("0s", Accepted),
            ("0", Accepted),
            ("0m", Refused),
            ("soon", Refused),
            ("10", Refused),
            ("", EMPTY_DURATION),
        ],
    },
    Parameter {
        name: "Probes",
        variable: "STAGING_PROBES",
        with: &[],
        cases: &[
            ("", Accepted),
            ("backend=https://api.staging.example.com/health", Accepted),
            (
                "backend=https://api.staging.example.com/health;latency=1s;body=ok,web=https://staging.example.com",
                Accepted,
            ),
            ("backend=http://127.0.0.1:8080/health", Accepted),
            ("api=https://api.example.com/h;status=200|204;timeout=5s;backend", Accepted),
            ("web=https://example.com;status=2xx", Accepted),
            ("web=https://example.com/?token=abc&x=1", Accepted),
            ("a=https://a.example.com/h ; latency=800ms , b=https://b.example.com", Accepted),
            ("a=https://a.example.com;body=status: ok", Accepted),
            ("backend", Refused),
            ("a=ftp://a.example.com", Refused),
            ("a=https://", Refused),
            ("a=http:///x", Refused),
            ("a=https://a.example.com b", Refused),
            ("a=https://a.example.com;latency=2", Refused),
            ("a=https://a.example.com;latency=0s", Refused),
            ("a=https://a.example.com;status=600", Refused),
            ("a=https://a.example.com;status=6xx", Refused),
            ("a=https://a.example.com;retries=3", Refused),
            ("a=https://a.example.com;body=", Refused),
            ("=https://a.example.com", Refused),
            ("my probe=https://a.example.com", TemplateStricter("probe names of letters, digits, _ . and -")),
            (
                "a=https://a.example.com\nb=https://b.example.com",
                TemplateStricter("one line: entries are separated by commas"),
            ),
            ("ecs=https://a.example.com", CoreStricter("`ecs` is the ECS service's own probe")),
            ("a=https://a.example.com,a=https://b.example.com", CoreStricter("a name used twice")),
            ("a=https://a.example.com;timeout=30s", CoreStricter("a timeout of at most 20 s")),
            ("a=https://a.example.com;latency=5s", CoreStricter("a latency under the timeout (5 s unless set)")),
        ],
    },
    Parameter {
        name: "CostTag",
        variable: "STAGING_COST_TAG",
        with: &[],
        cases: &[
            ("", Accepted),
            ("Environment=staging", Accepted),
            ("cost center=staging app", Accepted),
            ("Environment", Refused),
            ("=staging", Refused),
            ("Environment=", Refused),
            (" = ", Refused),
            ("Environment = staging", TemplateStricter("the budget's filter uses both halves untrimmed")),
            ("a=b=c", TemplateStricter("the budget's filter splits on every =")),
        ],
    },
    Parameter {
        name: "GbpPerUsd",
        variable: "STAGING_GBP_PER_USD",
        with: &[],
        cases: &[
            ("", Accepted),
            ("0.79", Accepted),
            ("1", Accepted),
            ("0.8125", Accepted),
            ("£0.79", Refused),
            ("0,79", Refused),
            ("-0.79", Refused),
            (".79", Accepted),
            ("99.5", Accepted),
            ("0", Refused),
            ("0.0", Refused),
            ("250", Refused),
            ("100", Refused),
            ("00.5", TemplateStricter("one leading zero at most")),
        ],
    },
    Parameter {
        name: "SettingsParameter",
        variable: "STAGING_SETTINGS_PARAMETER",
        with: &[],
        cases: &[
            ("", Accepted),
            ("/staging/settings", Accepted),
            ("/a", Accepted),
            ("/a.b-c_d/e", Accepted),
            ("/Staging-Control/v2/settings.yaml", Accepted),
            (LONGEST_PARAMETER_NAME, Accepted),
            ("staging/settings", Refused),
            ("/", Refused),
            ("//x", Refused),
            ("/a//b", Refused),
            ("/a/", Refused),
            ("/a b", Refused),
            ("/a$", Refused),
            ("/réglages", Refused),
            ("arn:aws:ssm:eu-west-2:123456789012:parameter/staging/settings", Refused),
            (PARAMETER_NAME_TOO_LONG, Refused),
            (" /staging/settings", TemplateStricter("the policies' ARN is built from the value as it is")),
        ],
    },
];

/// Parameters that are YAML documents: no pattern can check them, so a document that does not
/// parse refuses the work it is for (named) instead of stopping the function; their defaults
/// are checked below by the core's own parsers.
const DOCUMENTS: &[&str] = &["PathFilters", "Rates"];

/// Parameters that reach the core as free text with no pattern, on purpose: names CloudFormation
/// cannot know (a branch, a workflow file, a workflow input).
const FREE_FORM: &[&str] = &["GitHubBranch", "GitHubDeployWorkflow", "GitHubMigrateInput"];

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // serde_yaml_ng keeps CloudFormation's short forms (!Ref, !Sub, ...) as tagged values.
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parameter<'t>(template: &'t Value, name: &str) -> &'t Value {
    template
        .get("Parameters")
        .and_then(|p| p.get(name))
        .unwrap_or_else(|| panic!("template.yaml has no parameter {name}"))
}

fn allowed_pattern(template: &Value, name: &str) -> String {
    parameter(template, name)
        .get("AllowedPattern")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("parameter {name} has no AllowedPattern"))
        .to_string()
}

/// A pattern as CloudFormation applies it: to the whole value, within the parameter's
/// `MinLength` and `MaxLength` (in characters) when it has them. Perl classes (`\s`) are
/// ASCII, as in Java's default; values are matched byte by byte.
struct Pattern {
    source: String,
    regex: Regex,
    cache: Cache,
    min_length: Option<usize>,
    max_length: Option<usize>,
}

impl Pattern {
    fn new(source: &str) -> Self {
        let regex = Regex::builder()
            .syntax(syntax::Config::new().unicode(false).utf8(false))
            .build(&format!("^(?:{source})$"))
            .unwrap_or_else(|e| panic!("AllowedPattern {source:?} does not compile: {e}"));
        let cache = regex.create_cache();
        Self { source: source.to_string(), regex, cache, min_length: None, max_length: None }
    }

    /// The template parameter `name`'s `AllowedPattern`, with its `MinLength` and `MaxLength`.
    fn of(template: &Value, name: &str) -> Self {
        let length = |key: &str| {
            parameter(template, name)
                .get(key)
                .map(|n| n.as_u64().unwrap_or_else(|| panic!("parameter {name}: {key} is not a number")) as usize)
        };
        Self {
            min_length: length("MinLength"),
            max_length: length("MaxLength"),
            ..Self::new(&allowed_pattern(template, name))
        }
    }

    fn accepts(&mut self, value: &str) -> bool {
        let length = value.chars().count();
        self.min_length.is_none_or(|min| length >= min)
            && self.max_length.is_none_or(|max| length <= max)
            && self.regex.is_match(&mut self.cache, value)
    }

    /// The pattern, and the lengths when the parameter sets them, for a report.
    fn shown(&self) -> String {
        let mut shown = self.source.clone();
        if let Some(min) = self.min_length {
            shown += &format!(" (MinLength {min})");
        }
        if let Some(max) = self.max_length {
            shown += &format!(" (MaxLength {max})");
        }
        shown
    }
}

/// The core's verdict: the whole configuration read with this variable (and its companions) set.
fn core_verdict(p: &Parameter, value: &str) -> Result<(), String> {
    Config::from_lookup(|name| {
        if name == p.variable {
            Some(value.to_string())
        } else {
            p.with.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
        }
    })
    .map(|_| ())
    .map_err(|e| e.to_string())
}

/// Every case of `p` whose two verdicts are not the ones the table expects, as lines naming
/// the parameter, the value, both verdicts and the pattern.
fn disagreements(p: &Parameter, pattern: &mut Pattern) -> Vec<String> {
    let mut out = Vec::new();
    if let Err(e) = core_verdict(p, "") {
        out.push(format!("{}: the companions {:?} alone are refused by the core: {e}", p.name, p.with));
        return out;
    }
    for &(value, expect) in p.cases {
        let template = pattern.accepts(value);
        let core = core_verdict(p, value);
        let wanted = match expect {
            Accepted => (true, true),
            Refused => (false, false),
            TemplateStricter(_) => (false, true),
            CoreStricter(_) => (true, false),
        };
        if (template, core.is_ok()) != wanted {
            out.push(format!(
                "{name}={value:?} (with {with:?}): the template {t}, the core {c}; expected {expect:?}\n    AllowedPattern: {source}",
                name = p.name,
                with = p.with,
                t = if template { "accepts" } else { "refuses" },
                c = match &core {
                    Ok(()) => "accepts".to_string(),
                    Err(e) => format!("refuses ({e})"),
                },
                source = pattern.shown(),
            ));
        }
    }
    out
}

#[test]
fn template_patterns_agree_with_the_core_parsers() {
    let template = template();
    let failures: Vec<String> =
        PARAMETERS.iter().flat_map(|p| disagreements(p, &mut Pattern::of(&template, p.name))).collect();
    assert!(failures.is_empty(), "{} disagreement(s):\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_default_passes_its_pattern_and_the_core() {
    let template = template();
    let mut failures = Vec::new();
    for p in PARAMETERS {
        let Some(default) = parameter(&template, p.name).get("Default") else {
            continue;
        };
        let default = default.as_str().unwrap_or_else(|| panic!("{}: Default is not a string", p.name));
        if !Pattern::of(&template, p.name).accepts(default) {
            failures.push(format!("{}: Default {default:?} does not match its AllowedPattern (or lengths)", p.name));
        }
        if let Err(e) = core_verdict(p, default) {
            failures.push(format!("{}: Default {default:?} (with {:?}) is refused by the core: {e}", p.name, p.with));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The tables name the variables the template really passes each parameter as, so the core
/// is asked about the right one.
#[test]
fn each_parameter_reaches_the_core_as_the_variable_its_table_names() {
    let template = template();
    let mut passed = Vec::new();
    collect_ref_variables(&template, &mut passed);
    for p in PARAMETERS {
        assert!(
            passed.iter().any(|(variable, name)| variable == p.variable && name == p.name),
            "template.yaml does not pass {} as {} (it passes: {passed:?})",
            p.name,
            p.variable,
        );
    }
}

/// A String parameter the functions read as free text has a pattern (or a list of values),
/// unless it is a name only the user knows.
#[test]
fn only_names_reach_the_functions_unchecked() {
    let template = template();
    let mut passed = Vec::new();
    collect_ref_variables(&template, &mut passed);
    let mut unchecked: Vec<&str> = passed
        .iter()
        .filter_map(|(_, name)| {
            let p = template.get("Parameters")?.get(name.as_str())?;
            let free = p.get("Type").and_then(Value::as_str) == Some("String")
                && p.get("AllowedPattern").is_none()
                && p.get("AllowedValues").is_none();
            free.then_some(name.as_str())
        })
        .collect();
    unchecked.sort_unstable();
    unchecked.dedup();
    let mut expected: Vec<&str> = FREE_FORM.iter().chain(DOCUMENTS).copied().collect();
    expected.sort_unstable();
    assert_eq!(unchecked, expected);
}

/// `PathFilters` defaults to the built-in filters, in the one-line form a parameter holds:
/// a deploy that leaves it alone classifies exactly as the functions did before it existed.
#[test]
fn the_path_filters_default_is_the_built_in_filters() {
    let template = template();
    let default =
        parameter(&template, "PathFilters").get("Default").and_then(Value::as_str).expect("PathFilters has a default");
    assert!(!default.contains('\n'), "a parameter's default is one line");
    let from_template =
        staging_core::Filters::from_yaml(default).unwrap_or_else(|e| panic!("PathFilters default: {e}"));
    let builtin = staging_core::Filters::builtin();
    let names = |f: &staging_core::Filters| {
        f.names().map(|n| (n.to_string(), f.patterns(n).unwrap().to_vec())).collect::<Vec<_>>()
    };
    assert_eq!(names(&from_template), names(&builtin));
    let rates = parameter(&template, "Rates").get("Default").and_then(Value::as_str);
    assert_eq!(rates, Some(""), "Rates defaults to the built-in list prices");
}

/// The test can fail: a pattern that lets everything through is caught, and the report says
/// which parameter, which value, and what each side said.
#[test]
fn a_pattern_that_drifts_from_the_core_is_reported() {
    let working_days = PARAMETERS.iter().find(|p| p.name == "WorkingDays").unwrap();
    let failures = disagreements(working_days, &mut Pattern::new("^.*$"));
    assert!(!failures.is_empty());
    let report = failures.join("\n");
    assert!(
        report.contains(r#"WorkingDays="Mon-Fryday""#)
            && report.contains("the template accepts, the core refuses (STAGING_WORKING_DAYS=")
            && report.contains("expected Refused"),
        "{report}"
    );
}

/// Every `VARIABLE: !Ref Parameter` in the template's function environments.
fn collect_ref_variables(value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Mapping(map) => {
            for (key, value) in map {
                if let (Some(variable), Value::Tagged(tagged)) = (key.as_str(), value)
                    && tagged.tag == "Ref"
                    && let Some(name) = tagged.value.as_str()
                    && variable.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                {
                    out.push((variable.to_string(), name.to_string()));
                }
                collect_ref_variables(value, out);
            }
        }
        Value::Sequence(items) => items.iter().for_each(|v| collect_ref_variables(v, out)),
        Value::Tagged(tagged) => collect_ref_variables(&tagged.value, out),
        _ => {}
    }
}
