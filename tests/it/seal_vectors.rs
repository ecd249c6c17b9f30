//! Seals made by iron-session (iron-webcrypto) in Node unseal here, and ours
//! have the same shape.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authkit_axum::seal::{Passwords, SealError, SealOptions, UnsealOptions, seal, unseal};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Fixture {
    generated_with: String,
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    what: String,
    password: serde_json::Map<String, Value>,
    data: Value,
    sealed: String,
}

fn fixture() -> Fixture {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/iron/vectors.json"
    );
    let text = std::fs::read_to_string(path).expect("read vectors.json");
    let fixture: Fixture = serde_json::from_str(&text).expect("parse vectors.json");
    assert!(fixture.generated_with.contains("iron-session"));
    assert!(fixture.vectors.len() >= 4);
    fixture
}

fn passwords(vector: &Vector) -> Passwords {
    Passwords::new(
        vector
            .password
            .iter()
            .map(|(id, pw)| (id.as_str(), pw.as_str().expect("password is a string"))),
    )
    .expect("valid passwords")
}

/// Vector 2 expires at this Unix time in milliseconds (14 days after it was
/// sealed).
const VECTOR_2_EXP_MS: u64 = 1_796_968_630_438;

fn at_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// A clock at which every vector is still valid, so the test does not depend
/// on today's date.
fn before_expiry() -> UnsealOptions {
    UnsealOptions::default().with_now(at_ms(VECTOR_2_EXP_MS - 1_000))
}

#[test]
fn every_vector_unseals_to_its_data() {
    for (index, vector) in fixture().vectors.iter().enumerate() {
        let got: Value = unseal(&vector.sealed, &passwords(vector), before_expiry())
            .unwrap_or_else(|e| panic!("vector {index} ({}): {e}", vector.what));
        assert_eq!(got, vector.data, "vector {index} ({})", vector.what);
    }
}

#[test]
fn every_vector_unseals_without_the_version_suffix() {
    for (index, vector) in fixture().vectors.iter().enumerate() {
        let body = vector
            .sealed
            .strip_suffix("~2")
            .expect("iron-session adds ~2");
        let got: Value = unseal(body, &passwords(vector), before_expiry())
            .unwrap_or_else(|e| panic!("vector {index} ({}): {e}", vector.what));
        assert_eq!(got, vector.data, "vector {index}");
    }
}

#[test]
fn vector_with_ttl_expires_with_iron_skew() {
    let fixture = fixture();
    let vector = &fixture.vectors[2];
    assert_eq!(
        vector.sealed.split('*').nth(5),
        Some(VECTOR_2_EXP_MS.to_string().as_str())
    );
    let pw = passwords(vector);
    let at = |ms: u64| {
        unseal::<Value>(
            &vector.sealed,
            &pw,
            UnsealOptions::default().with_now(at_ms(ms)),
        )
    };

    // Sealed 14 days before its expiration.
    let sealed_at = VECTOR_2_EXP_MS - 14 * 24 * 3600 * 1000;
    assert_eq!(at(sealed_at).unwrap(), vector.data);
    assert_eq!(at(VECTOR_2_EXP_MS - 1).unwrap(), vector.data);
    // 60 s of skew are tolerated past the expiration.
    assert_eq!(at(VECTOR_2_EXP_MS + 59_999).unwrap(), vector.data);
    assert!(matches!(
        at(VECTOR_2_EXP_MS + 60_000),
        Err(SealError::Expired)
    ));
    assert!(matches!(
        at(VECTOR_2_EXP_MS + 30 * 24 * 3600 * 1000),
        Err(SealError::Expired)
    ));
}

#[test]
fn vectors_refuse_a_wrong_or_missing_password() {
    let wrong = Passwords::single("a-completely-different-password-of-40-chars").unwrap();
    let only_two =
        Passwords::new([("2", "rotated-password-number-two-at-least-32-chars!")]).unwrap();
    for vector in &fixture().vectors {
        let named = vector.sealed.split('*').nth(1).unwrap();
        let result = unseal::<Value>(&vector.sealed, &wrong, before_expiry());
        if named == "1" {
            assert!(matches!(result, Err(SealError::BadMac)), "{}", vector.what);
            assert!(matches!(
                unseal::<Value>(&vector.sealed, &only_two, before_expiry()),
                Err(SealError::UnknownPasswordId { .. })
            ));
        } else {
            assert!(
                matches!(result, Err(SealError::UnknownPasswordId { .. })),
                "{}",
                vector.what
            );
        }
    }
}

#[test]
fn our_seals_of_vector_data_have_the_iron_session_shape() {
    for (index, vector) in fixture().vectors.iter().enumerate() {
        let pw = passwords(vector);
        let sealed = seal(&vector.data, &pw, SealOptions::default()).unwrap();
        assert!(sealed.ends_with("~2"), "vector {index}");
        let fields: Vec<&str> = sealed.strip_suffix("~2").unwrap().split('*').collect();
        assert_eq!(fields.len(), 8, "vector {index}");
        assert_eq!(fields[0], "Fe26.2");
        let expected_id = if vector.password.len() > 1 { "2" } else { "1" };
        assert_eq!(
            fields[1], expected_id,
            "vector {index}: seals with the highest id"
        );
        // Same field shapes as the Node seal.
        let theirs: Vec<&str> = vector
            .sealed
            .strip_suffix("~2")
            .unwrap()
            .split('*')
            .collect();
        for i in [2, 3, 6, 7] {
            assert_eq!(fields[i].len(), theirs[i].len(), "vector {index} field {i}");
        }
        assert_eq!(
            fields[4].len(),
            theirs[4].len(),
            "vector {index}: same ciphertext length"
        );
        assert_eq!(fields[5], "");

        let back: Value = unseal(&sealed, &pw, UnsealOptions::default()).unwrap();
        assert_eq!(back, vector.data, "vector {index}");
    }
}

#[test]
fn our_seal_with_ttl_matches_iron_session_default() {
    let fixture = fixture();
    let vector = &fixture.vectors[2];
    let pw = passwords(vector);
    let sealed_at = VECTOR_2_EXP_MS - 14 * 24 * 3600 * 1000;
    let sealed = seal(
        &vector.data,
        &pw,
        SealOptions::default()
            .with_ttl(Duration::from_secs(14 * 24 * 3600))
            .with_now(at_ms(sealed_at)),
    )
    .unwrap();
    assert_eq!(
        sealed.split('*').nth(5),
        Some(VECTOR_2_EXP_MS.to_string().as_str())
    );
    let late = UnsealOptions::default().with_now(at_ms(VECTOR_2_EXP_MS + 60_000));
    assert!(matches!(
        unseal::<Value>(&sealed, &pw, late),
        Err(SealError::Expired)
    ));
}

#[test]
fn rotation_set_seals_with_id_2_and_opens_both_generations() {
    let fixture = fixture();
    let rotation = &fixture.vectors[1];
    let pw = passwords(rotation);
    assert_eq!(pw.current().id(), "2");
    let ours = seal(&rotation.data, &pw, SealOptions::default()).unwrap();
    assert!(ours.starts_with("Fe26.2*2*"));
    // A seal made with password 1 alone (vector 0) still opens with the set.
    let first = &fixture.vectors[0];
    let got: Value = unseal(&first.sealed, &pw, before_expiry()).unwrap();
    assert_eq!(got, first.data);
}
