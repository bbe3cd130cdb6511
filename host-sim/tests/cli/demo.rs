//! `tinytrain demo`: the firmware's demo, line for line.

use crate::ok;

#[test]
fn prints_exactly_the_demo_log() {
    let mut expected = Vec::new();
    let story = tinytrain_demo::host::run_on_host(&mut expected).unwrap();
    assert!(story.passed());
    let out = ok(&["demo"]);
    assert_eq!(out, String::from_utf8(expected).unwrap());
    assert!(out.contains("step 3, test (evaluated once)"), "{out}");
    assert!(out.contains("\nPASS: the MLP beat"), "{out}");
    assert!(
        out.lines().last().unwrap().starts_with("check: PASS"),
        "{out}"
    );
}
