//! "Test connection" against vcsim (govmomi's vCenter simulator) over SOAP.

use opsdeck_core::connections::ConnectionSpec;
use opsdeck_core::connectors::vsphere;
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::service::shared;

fn spec(thumbprint: Option<&str>) -> ConnectionSpec {
    let vcsim = shared("vcsim");
    ConnectionSpec::Vsphere {
        url: vcsim.get("VCSIM_SDK_URL").into(),
        username: vcsim.get("VCSIM_USER").into(),
        thumbprint: thumbprint.map(Into::into),
    }
}

#[tokio::test]
async fn pinned_thumbprint_and_right_password_log_in() {
    let vcsim = shared("vcsim");
    let t = TestBackend::new().await;
    let c = t.add("vcsim", spec(Some(vcsim.get("VCSIM_THUMBPRINT_SHA256"))), Some(vcsim.get("VCSIM_PASSWORD"))).await;
    let outcome = t.backend.test_connection(&c.id).await.unwrap();
    assert!(outcome.ok, "{outcome:?}");
    assert!(outcome.version.as_deref().unwrap().contains("VMware"), "{outcome:?}");
    assert!(outcome.message.contains("pinned"), "{}", outcome.message);
    t.cleanup().await;
}

#[tokio::test]
async fn fetched_thumbprint_matches_the_certificate() {
    let vcsim = shared("vcsim");
    let fetched = vsphere::fetch_thumbprint(vcsim.get("VCSIM_SDK_URL")).await.unwrap();
    assert_eq!(fetched, vcsim.get("VCSIM_THUMBPRINT_SHA256"), "same as openssl's fingerprint");
}

#[tokio::test]
async fn wrong_password_is_an_auth_error() {
    let vcsim = shared("vcsim");
    let t = TestBackend::new().await;
    let c = t.add("vcsim wrong pw", spec(Some(vcsim.get("VCSIM_THUMBPRINT_SHA256"))), Some("wrong-password")).await;
    let outcome = t.backend.test_connection(&c.id).await.unwrap();
    assert!(!outcome.ok);
    assert_eq!(outcome.error_code, Some(ErrorCode::Auth), "{outcome:?}");
    assert!(outcome.message.contains("wrong user name or password"), "{}", outcome.message);
    t.cleanup().await;
}

#[tokio::test]
async fn untrusted_or_mismatched_certificate_is_refused() {
    let vcsim = shared("vcsim");
    let t = TestBackend::new().await;
    // No pin: the test CA is not in the system store, so verification fails (never silently accepted).
    let c = t.add("vcsim unpinned", spec(None), Some(vcsim.get("VCSIM_PASSWORD"))).await;
    let outcome = t.backend.test_connection(&c.id).await.unwrap();
    assert_eq!(outcome.error_code, Some(ErrorCode::Tls), "{outcome:?}");
    assert!(outcome.message.contains("thumbprint"), "tells the user how to trust it: {}", outcome.message);

    let wrong = "AA:".repeat(31) + "AA";
    let c = t.add("vcsim wrong pin", spec(Some(&wrong)), Some(vcsim.get("VCSIM_PASSWORD"))).await;
    let outcome = t.backend.test_connection(&c.id).await.unwrap();
    assert_eq!(outcome.error_code, Some(ErrorCode::Tls), "{outcome:?}");
    assert!(outcome.message.contains("does not match"), "{}", outcome.message);
    t.cleanup().await;
}
