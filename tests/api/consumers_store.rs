//! The store's consumer records on both backends: declarations, environments,
//! deployments with their resolutions, fetches, deprecated and retired lines, and
//! consumer protection, each written with its audit row.

use accord::domain::{
    AppVersion, AuditAction, Caller, ConsumerName, ContractName, EnvironmentName, FieldPath,
    Principal, Protection,
};
use accord::store::{
    AuditEntry, AuditQuery, LineDeprecation, NewDeclaration, Read, Resolution, StoreError,
};
use chrono::{Duration, NaiveDate, Utc};
use semver::{Version, VersionReq};
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;

fn caller() -> Caller {
    Caller::local(Principal::local("test"))
}

fn audit(action: AuditAction) -> AuditEntry {
    AuditEntry::new(&caller(), action)
}

fn consumer(s: &str) -> ConsumerName {
    ConsumerName::parse(s).unwrap()
}

fn contract(s: &str) -> ContractName {
    ContractName::parse(s).unwrap()
}

fn env(s: &str) -> EnvironmentName {
    EnvironmentName::parse(s).unwrap()
}

fn app_version(s: &str) -> AppVersion {
    AppVersion::parse(s).unwrap()
}

fn read(name: &str, range: &str, fields: &[&str]) -> Read {
    Read {
        contract: contract(name),
        range: VersionReq::parse(range).unwrap(),
        fields: fields
            .iter()
            .map(|f| FieldPath::parse(f).unwrap())
            .collect(),
    }
}

fn declaration(name: &str, version: &str, owner: Option<&str>, reads: Vec<Read>) -> NewDeclaration {
    NewDeclaration {
        consumer: consumer(name),
        owner: owner.map(str::to_owned),
        description: None,
        app_version: app_version(version),
        reads,
    }
}

async fn audit_actions(app: &TestApp) -> Vec<AuditAction> {
    app.store
        .audit_log(&AuditQuery {
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect()
}

async fn a_declaration_is_kept_per_application_version_and_replaced_whole(app: TestApp) {
    let store = &app.store;
    let first = declaration(
        "billing.export",
        "aaa111",
        Some("team-billing"),
        vec![
            read("orders.placed", "^1", &["/amount", "/items/*/sku"]),
            read("orders.cancelled", "~1.4", &[]),
        ],
    );
    let record = store
        .declare(&first, &audit(AuditAction::DeclareConsumer))
        .await
        .unwrap();
    assert_eq!(record.owner.as_deref(), Some("team-billing"));
    let got = store
        .declaration(&consumer("billing.export"), &app_version("aaa111"))
        .await
        .unwrap()
        .expect("declared");
    assert_eq!(
        got.reads, first.reads,
        "reads come back in the declared order"
    );

    // The same application version declared again: its reads are replaced, the owner
    // is kept when not given.
    let again = declaration(
        "billing.export",
        "aaa111",
        None,
        vec![read("orders.placed", "^1.2", &["/order_id"])],
    );
    let record = store
        .declare(&again, &audit(AuditAction::DeclareConsumer))
        .await
        .unwrap();
    assert_eq!(record.owner.as_deref(), Some("team-billing"));
    let got = store
        .declaration(&consumer("billing.export"), &app_version("aaa111"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.reads, again.reads);
    assert!(
        store
            .declaration(&consumer("billing.export"), &app_version("bbb222"))
            .await
            .unwrap()
            .is_none()
    );
    store
        .declare(
            &declaration("billing.export", "bbb222", None, vec![]),
            &audit(AuditAction::DeclareConsumer),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .declarations(&consumer("billing.export"))
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(store.consumers().await.unwrap().len(), 1);
    assert_eq!(
        audit_actions(&app).await,
        vec![AuditAction::DeclareConsumer; 3]
    );
}

async fn a_deployment_replaces_the_previous_one_in_its_environment(app: TestApp) {
    let store = &app.store;
    store
        .put_environment(&env("prod"), true, &audit(AuditAction::UpdateEnvironment))
        .await
        .unwrap();
    store
        .put_environment(&env("dev"), false, &audit(AuditAction::UpdateEnvironment))
        .await
        .unwrap();
    let envs = store.environments().await.unwrap();
    assert_eq!(
        envs.iter()
            .map(|e| (e.name.as_str(), e.protected))
            .collect::<Vec<_>>(),
        vec![("dev", false), ("prod", true)]
    );
    for (v, range) in [("v1", "^1"), ("v2", "^2")] {
        store
            .declare(
                &declaration(
                    "billing.export",
                    v,
                    None,
                    vec![read("orders.placed", range, &["/amount"])],
                ),
                &audit(AuditAction::DeclareConsumer),
            )
            .await
            .unwrap();
    }
    let resolved = |v: &str| {
        vec![Resolution {
            contract: contract("orders.placed"),
            version: Some(Version::parse(v).unwrap()),
        }]
    };
    store
        .record_deployment(
            &consumer("billing.export"),
            &env("prod"),
            &app_version("v1"),
            &resolved("1.3.0"),
            &audit(AuditAction::RecordDeployment),
        )
        .await
        .unwrap();
    store
        .record_deployment(
            &consumer("billing.export"),
            &env("dev"),
            &app_version("v2"),
            &resolved("2.0.0"),
            &audit(AuditAction::RecordDeployment),
        )
        .await
        .unwrap();
    let readers = store.readers(&contract("orders.placed")).await.unwrap();
    let rows: Vec<(&str, bool, &str, String, Option<String>)> = readers
        .iter()
        .map(|r| {
            (
                r.environment.as_str(),
                r.protected,
                r.app_version.as_str(),
                r.range.to_string(),
                r.resolved.as_ref().map(Version::to_string),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                "dev",
                false,
                "v2",
                "^2".to_owned(),
                Some("2.0.0".to_owned())
            ),
            (
                "prod",
                true,
                "v1",
                "^1".to_owned(),
                Some("1.3.0".to_owned())
            ),
        ]
    );
    assert_eq!(
        readers[0].fields,
        vec![FieldPath::parse("/amount").unwrap()]
    );

    // v2 reaches prod: v1 no longer runs anywhere.
    store
        .record_deployment(
            &consumer("billing.export"),
            &env("prod"),
            &app_version("v2"),
            &resolved("2.1.0"),
            &audit(AuditAction::RecordDeployment),
        )
        .await
        .unwrap();
    let deployments = store
        .deployments(&consumer("billing.export"))
        .await
        .unwrap();
    assert_eq!(deployments.len(), 2);
    let prod = deployments
        .iter()
        .find(|d| d.environment.as_str() == "prod")
        .unwrap();
    assert_eq!(prod.app_version.as_str(), "v2");
    assert_eq!(prod.resolutions, resolved("2.1.0"));
    assert!(
        store
            .readers(&contract("orders.placed"))
            .await
            .unwrap()
            .iter()
            .all(|r| r.app_version.as_str() == "v2")
    );
    assert!(
        store
            .readers(&contract("orders.other"))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn fetches_are_noted_for_declared_consumers_only_and_keep_the_latest_time(app: TestApp) {
    let store = &app.store;
    let (orders, v1) = (contract("orders.placed"), Version::new(1, 0, 0));
    let now = Utc::now();
    store
        .record_fetch(&consumer("nobody.declared"), &orders, &v1, now)
        .await
        .unwrap();
    assert!(store.fetches(&orders).await.unwrap().is_empty());
    store
        .declare(
            &declaration("billing.export", "v1", None, vec![]),
            &audit(AuditAction::DeclareConsumer),
        )
        .await
        .unwrap();
    store
        .record_fetch(&consumer("billing.export"), &orders, &v1, now)
        .await
        .unwrap();
    store
        .record_fetch(
            &consumer("billing.export"),
            &orders,
            &v1,
            now - Duration::minutes(5),
        )
        .await
        .unwrap();
    let fetches = store.fetches(&orders).await.unwrap();
    assert_eq!(fetches.len(), 1);
    assert_eq!(fetches[0].version, v1);
    assert!(
        (fetches[0].fetched_at - now).num_milliseconds().abs() < 2,
        "a late write of an older fetch does not move the time back"
    );
}

async fn retiring_a_line_soft_deletes_its_live_versions_only(app: TestApp) {
    let name = "orders.placed";
    let v = |props: &[&str]| {
        let properties: serde_json::Map<String, serde_json::Value> = props
            .iter()
            .map(|p| ((*p).to_owned(), json!({"type": "string"})))
            .collect();
        json!({"type": "object", "properties": properties, "additionalProperties": false})
    };
    for (schema, extra) in [
        (v(&["a"]), json!({})),
        (v(&["a", "b"]), json!({})),
        (v(&["c"]), json!({"version": "2.0.0"})),
    ] {
        let r = app.register_with(name, &schema, extra).await;
        assert!(r.status.is_success(), "{}", r.text);
    }
    let store = &app.store;
    let before = store.history(&contract(name)).await.unwrap().revision;
    let deprecation = LineDeprecation {
        contract: contract(name),
        major: 1,
        sunset: NaiveDate::from_ymd_opt(2027, 6, 30).unwrap(),
        reason: "use 2.x".to_owned(),
        successor: Some(2),
        deprecated_at: Utc::now(),
    };
    store
        .deprecate_line(&deprecation, &audit(AuditAction::DeprecateLine))
        .await
        .unwrap();
    let listed = store.deprecations(&contract(name)).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].major, listed[0].sunset, listed[0].successor),
        (1, deprecation.sunset, Some(2))
    );

    let retired = store
        .retire_line(&contract(name), 1, &audit(AuditAction::RetireLine))
        .await
        .unwrap();
    assert_eq!(
        retired
            .iter()
            .map(|r| r.version.to_string())
            .collect::<Vec<_>>(),
        ["1.0.0", "1.1.0"]
    );
    let history = store.history(&contract(name)).await.unwrap();
    assert!(history.revision > before, "the revision moves");
    assert_eq!(
        history
            .versions
            .iter()
            .map(|v| (v.version.to_string(), v.deleted))
            .collect::<Vec<_>>(),
        [
            ("1.0.0".to_owned(), true),
            ("1.1.0".to_owned(), true),
            ("2.0.0".to_owned(), false)
        ]
    );
    // Nothing left to retire: nothing written.
    assert!(
        store
            .retire_line(&contract(name), 1, &audit(AuditAction::RetireLine))
            .await
            .unwrap()
            .is_empty()
    );
    let log = store
        .audit_log(&AuditQuery {
            action: Some(AuditAction::RetireLine),
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].detail.as_ref().unwrap()["seqs"], json!([1, 2]));
}

async fn consumer_protection_is_set_and_cleared(app: TestApp) {
    let store = &app.store;
    let orders = contract("orders.placed");
    assert_eq!(store.protection(&orders).await.unwrap(), None);
    store
        .set_protection(
            &orders,
            Some(Protection::Block),
            &audit(AuditAction::SetConsumerProtection),
        )
        .await
        .unwrap();
    assert_eq!(
        store.protection(&orders).await.unwrap(),
        Some(Protection::Block)
    );
    store
        .set_protection(&orders, None, &audit(AuditAction::SetConsumerProtection))
        .await
        .unwrap();
    assert_eq!(store.protection(&orders).await.unwrap(), None);
}

async fn a_deployment_of_an_undeclared_version_is_refused_by_the_database(app: TestApp) {
    let store = &app.store;
    store
        .put_environment(&env("prod"), false, &audit(AuditAction::UpdateEnvironment))
        .await
        .unwrap();
    let e = store
        .record_deployment(
            &consumer("ghost"),
            &env("prod"),
            &app_version("v1"),
            &[],
            &audit(AuditAction::RecordDeployment),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Database(_)), "{e:?}");
    assert!(
        !audit_actions(&app)
            .await
            .contains(&AuditAction::RecordDeployment),
        "the refused write left no audit row"
    );
}

on_both_backends!(
    a_declaration_is_kept_per_application_version_and_replaced_whole,
    a_deployment_replaces_the_previous_one_in_its_environment,
    fetches_are_noted_for_declared_consumers_only_and_keep_the_latest_time,
    retiring_a_line_soft_deletes_its_live_versions_only,
    consumer_protection_is_set_and_cleared,
    a_deployment_of_an_undeclared_version_is_refused_by_the_database,
);
