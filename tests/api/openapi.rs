//! `openapi.yaml` describes exactly the routes the router answers.

use std::collections::BTreeSet;

use crate::helpers::openapi;

#[test]
fn every_route_is_in_the_spec_and_every_spec_path_is_a_route() {
    let router: BTreeSet<(String, String)> = accord::http::route_table()
        .into_iter()
        .map(|(m, p)| (m.to_ascii_lowercase(), p.to_owned()))
        .collect();
    let mut spec = BTreeSet::new();
    for (path, item) in openapi()["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if item.get(method).is_some() {
                spec.insert((method.to_owned(), path.clone()));
            }
        }
    }
    let missing: Vec<_> = router.difference(&spec).collect();
    let extra: Vec<_> = spec.difference(&router).collect();
    assert!(
        missing.is_empty(),
        "routes missing from openapi.yaml: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "openapi.yaml paths the router does not answer: {extra:?}"
    );
}

#[test]
fn the_spec_is_openapi_3_1_and_every_operation_documents_an_error_answer() {
    let spec = openapi();
    assert!(
        spec["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if path.starts_with("/api/v1") && method != "parameters" {
                let responses = op["responses"]
                    .as_object()
                    .unwrap_or_else(|| panic!("{method} {path} has no responses"));
                assert!(
                    responses
                        .keys()
                        .any(|k| k.starts_with('4') || k.starts_with('5')),
                    "{method} {path} documents no error answer"
                );
            }
        }
    }
}

#[test]
fn every_operation_declares_the_role_the_code_requires() {
    let spec = openapi();
    let mut checked = 0;
    for (api, method, path, rule) in accord::http::access_table() {
        if api != accord::http::Api::Native {
            continue;
        }
        let op = &spec["paths"][path][method.to_ascii_lowercase()];
        let declared = op["x-accord-role"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} declares no x-accord-role"));
        let required = rule
            .action
            .required_role()
            .map_or("none", |role| role.as_str());
        assert_eq!(
            declared, required,
            "{method} {path}: openapi.yaml says {declared}, the code requires {required}"
        );
        // Only the open operations say they need no credential.
        let open = op["security"].as_array().is_some_and(Vec::is_empty);
        assert_eq!(open, required == "none", "{method} {path}: security");
        checked += 1;
    }
    assert_eq!(checked, accord::http::route_table().len());
    assert!(spec["components"]["securitySchemes"]["bearerAuth"].is_object());
}
