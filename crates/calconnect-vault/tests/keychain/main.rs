//! The vault against a real Secret Service (gnome-keyring in a private D-Bus session).
//!
//! Run through `scripts/with-keyring.sh cargo nextest run -p calconnect-vault`: the script starts a throwaway
//! session bus and an unlocked gnome-keyring whose files live in a temporary `XDG_DATA_HOME`.
//! Tests that need a missing keychain re-run this binary as a child process with a changed environment,
//! because the environment is process-global.

use std::path::Path;
use std::process::{Command, Output};

use calconnect_vault::{chunked::CHUNK_BYTES, Error, KeychainStore, SecretStore};
use secrecy::{ExposeSecret, SecretString};

/// Each test owns its own service name so parallel tests never see each other's entries.
fn unique_service() -> String {
    format!("calconnect-test-{}", uuid::Uuid::new_v4())
}

fn keychain(service: &str) -> KeychainStore {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "these tests need a running Secret Service: run them through scripts/with-keyring.sh"
    );
    KeychainStore::new(service).expect("the Secret Service of with-keyring.sh is reachable")
}

/// One item as `secret-tool search --all` shows it.
#[derive(Debug)]
struct Item {
    label: String,
    secret: String,
    attributes: std::collections::HashMap<String, String>,
}

/// What `secret-tool search --all service <service>` reports.
fn secret_tool_items(service: &str) -> Vec<Item> {
    let output = Command::new("secret-tool")
        .args(["search", "--all", "--unlock", "service", service])
        .output()
        .expect("secret-tool (libsecret-tools) is installed");
    assert!(
        output.status.success(),
        "secret-tool search failed: {output:?}"
    );
    // secret-tool prints each item as "[path]", "label = ", "secret = " (which may span lines), "created = ",
    // "modified = " on stdout, and the item's "attribute.x = y" lines on stderr, items in the same order.
    let stdout = String::from_utf8(output.stdout).expect("secret-tool prints text");
    let stderr = String::from_utf8(output.stderr).expect("secret-tool prints text");
    let mut attribute_sets: Vec<std::collections::HashMap<String, String>> = Vec::new();
    for line in stderr.lines() {
        let Some((name, value)) = line
            .strip_prefix("attribute.")
            .and_then(|rest| rest.split_once(" = "))
        else {
            continue;
        };
        // A repeated attribute name starts the next item's set.
        if attribute_sets
            .last()
            .is_none_or(|set| set.contains_key(name))
        {
            attribute_sets.push(Default::default());
        }
        let set = attribute_sets.last_mut().expect("pushed above");
        set.insert(name.to_owned(), value.to_owned());
    }
    let blocks: Vec<&str> = stdout
        .split("\n[/")
        .map(|block| block.trim_start_matches('['))
        .filter(|block| block.contains("label = "))
        .collect();
    assert_eq!(blocks.len(), attribute_sets.len(), "{stdout}\n{stderr}");
    blocks
        .into_iter()
        .zip(attribute_sets)
        .map(|(block, attributes)| {
            let after_label = &block[block.find("label = ").expect("label") + "label = ".len()..];
            let (label, rest) = after_label.split_once("\nsecret = ").expect("secret");
            let (secret, _) = rest.split_once("\ncreated = ").expect("created");
            Item {
                label: label.to_owned(),
                secret: secret.to_owned(),
                attributes,
            }
        })
        .collect()
}

/// A 10 KB token-like secret with a marker that lets us look for its plaintext.
fn ten_kilobyte_secret(marker: &str) -> String {
    let mut secret = format!("{marker}.");
    while secret.len() < 10 * 1024 {
        secret.push_str("eyJ0eXAiOiJKV1QiLCJub25jZSI6ImFiYyJ9");
    }
    secret.truncate(10 * 1024);
    secret
}

#[test]
fn a_secret_round_trips_through_the_secret_service_and_can_be_overwritten_and_deleted() {
    let service = unique_service();
    let store = keychain(&service);
    let key = "refresh-token:adele@contoso.com";

    assert!(
        store.load(key).unwrap().is_none(),
        "a fresh service is empty"
    );
    store.save(key, &SecretString::from("first")).unwrap();
    assert_eq!(store.load(key).unwrap().unwrap().expose_secret(), "first");

    store.save(key, &SecretString::from("second")).unwrap();
    assert_eq!(store.load(key).unwrap().unwrap().expose_secret(), "second");
    assert_eq!(
        secret_tool_items(&service).len(),
        1,
        "overwrite replaces the item"
    );

    // A second store (as after an app restart) sees the same secret.
    let reopened = keychain(&service);
    assert_eq!(
        reopened.load(key).unwrap().unwrap().expose_secret(),
        "second"
    );

    store.delete(key).unwrap();
    assert!(store.load(key).unwrap().is_none());
    assert!(
        secret_tool_items(&service).is_empty(),
        "delete leaves no item"
    );
    store
        .delete(key)
        .expect("deleting an absent secret succeeds");
}

#[test]
fn a_ten_kilobyte_token_is_stored_as_chunks_whose_plaintext_appears_nowhere_else() {
    let service = unique_service();
    let store = keychain(&service);
    let key = "refresh-token:megan@contoso.com";
    let marker = format!("MARKER{}", uuid::Uuid::new_v4().simple());
    let secret = ten_kilobyte_secret(&marker);

    store
        .save(key, &SecretString::from(secret.clone()))
        .unwrap();
    assert_eq!(store.load(key).unwrap().unwrap().expose_secret(), secret);

    let items = secret_tool_items(&service);
    let expected_chunks = secret.len().div_ceil(CHUNK_BYTES);
    assert_eq!(
        items.len(),
        expected_chunks,
        "one item per chunk: {items:#?}"
    );
    let mut users: Vec<&str> = items
        .iter()
        .map(|item| item.attributes["username"].as_str())
        .collect();
    users.sort_unstable();
    let mut expected_users: Vec<String> = std::iter::once(key.to_owned())
        .chain((1..expected_chunks).map(|index| format!("{key}#{index}")))
        .collect();
    expected_users.sort_unstable();
    assert_eq!(users, expected_users);
    for item in &items {
        assert_eq!(item.attributes["service"], service);
        assert!(!item.label.contains(&marker), "the label carries no secret");
        for (name, value) in &item.attributes {
            assert!(
                !value.contains(&marker),
                "attribute {name} carries no secret"
            );
        }
        assert!(
            item.secret.len() <= CHUNK_BYTES + 80,
            "each item stays below every platform's limit"
        );
    }
    // The marker sits at the start of the secret, so only the head item's secret may hold it.
    let holders: Vec<&Item> = items
        .iter()
        .filter(|item| item.secret.contains(&marker))
        .collect();
    assert_eq!(holders.len(), 1);
    assert_eq!(holders[0].attributes["username"], key);
    assert!(holders[0].secret.starts_with("ccv1;10;"));
    let rejoined: String = {
        let mut by_user: Vec<(&str, &str)> = items
            .iter()
            .map(|item| (item.attributes["username"].as_str(), item.secret.as_str()))
            .collect();
        by_user.sort_by_key(|(user, _)| {
            user.rsplit_once('#')
                .map_or(0, |(_, index)| index.parse::<usize>().unwrap())
        });
        by_user
            .iter()
            .map(|(user, secret)| match secret.split_once('\n') {
                Some((_header, body)) if *user == key => body,
                _ => secret,
            })
            .collect()
    };
    assert_eq!(
        rejoined, secret,
        "the chunks concatenate to the secret, in order"
    );

    // gnome-keyring's files (in with-keyring.sh's throwaway XDG_DATA_HOME) are encrypted.
    if let Some(data_home) = std::env::var_os("XDG_DATA_HOME") {
        assert_no_plaintext_under(&Path::new(&data_home).join("keyrings"), marker.as_bytes());
    }

    // Shrinking the secret removes the chunks it no longer needs.
    store.save(key, &SecretString::from("small")).unwrap();
    assert_eq!(secret_tool_items(&service).len(), 1);
    store.delete(key).unwrap();
    assert!(secret_tool_items(&service).is_empty());
}

fn assert_no_plaintext_under(directory: &Path, needle: &[u8]) {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    for entry in entries.flatten() {
        let contents = std::fs::read(entry.path()).unwrap_or_default();
        assert!(
            !contents
                .windows(needle.len())
                .any(|window| window == needle),
            "{} holds the secret in plaintext",
            entry.path().display()
        );
    }
}

#[test]
fn a_chunk_removed_behind_our_back_is_reported_as_corrupt_with_a_next_step() {
    let service = unique_service();
    let store = keychain(&service);
    let key = "refresh-token:lee@contoso.com";
    store
        .save(key, &SecretString::from("x".repeat(3 * CHUNK_BYTES)))
        .unwrap();

    let status = Command::new("secret-tool")
        .args([
            "clear",
            "service",
            &service,
            "username",
            &format!("{key}#2"),
        ])
        .status()
        .unwrap();
    assert!(status.success());

    let error = store.load(key).unwrap_err();
    assert!(matches!(error, Error::Corrupt { .. }), "{error}");
    assert!(error.to_string().contains("chunk 2 of 3 is missing"));
    assert!(error.next_step().contains("Sign in again"));
    store.delete(key).unwrap();
    assert!(secret_tool_items(&service).is_empty());
}

#[test]
fn the_location_names_the_secret_service_and_our_service() {
    let service = unique_service();
    let location = keychain(&service).location();
    assert!(location.contains("Secret Service"), "{location}");
    assert!(location.contains(&service), "{location}");
}

// ---- No keychain: run this binary again as a child with a changed environment. ----

const CHILD_MARKER: &str = "CALCONNECT_VAULT_CHILD_PROBE";

/// Runs in a child process only (see the two tests below): connects and prints what the user would see.
#[test]
#[ignore = "run as a child process by the no-keychain tests"]
fn child_probe_connects_to_the_keychain() {
    assert!(
        std::env::var_os(CHILD_MARKER).is_some(),
        "run by a parent test"
    );
    let error =
        match KeychainStore::new("calconnect-test-child").and_then(|store| store.load("probe")) {
            Ok(_) => panic!("a keychain was reachable"),
            Err(error) => error,
        };
    assert!(matches!(error, Error::NoKeychain { .. }), "{error:?}");
    println!("display: {error}");
    println!("user_message: {}", error.user_message());
    println!("next_step: {}", error.next_step());
}

fn run_child_probe(mut command: Command) -> Output {
    let runtime_dir = std::env::temp_dir().join(format!("calconnect-xdg-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&runtime_dir).unwrap();
    let output = command
        .args([
            "child_probe_connects_to_the_keychain",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_MARKER, "1")
        // zbus falls back to $XDG_RUNTIME_DIR/bus when no address is set: point it at an empty directory.
        .env("XDG_RUNTIME_DIR", &runtime_dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&runtime_dir);
    output
}

fn assert_no_keychain_reported(output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("display: no keychain service is running"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "next_step: Start a Secret Service such as gnome-keyring or KeePassXC with Secret Service enabled, then try again."
        ),
        "{stdout}"
    );
}

#[test]
fn without_a_session_bus_the_keychain_reports_that_no_keychain_service_is_running() {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.env_remove("DBUS_SESSION_BUS_ADDRESS");
    assert_no_keychain_reported(&run_child_probe(command));
}

#[test]
fn on_a_session_bus_without_a_secret_service_the_keychain_reports_that_none_is_running() {
    // A session bus with no activatable services, so nobody can own org.freedesktop.secrets.
    let config = std::env::temp_dir().join(format!("calconnect-bus-{}.conf", uuid::Uuid::new_v4()));
    std::fs::write(
        &config,
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
    )
    .unwrap();
    let mut command = Command::new("dbus-run-session");
    command
        .arg(format!("--config-file={}", config.display()))
        .arg("--")
        .arg(std::env::current_exe().unwrap());
    let output = run_child_probe(command);
    let _ = std::fs::remove_file(&config);
    assert_no_keychain_reported(&output);
}
