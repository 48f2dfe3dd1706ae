//! The list and round-trip checks, per platform. A round trip creates one
//! throw-away object with a unique name, reads it back, and removes it; the
//! removal is attempted even when a step in between fails.

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{CreateContainerOptions, ListImagesOptions, RemoveContainerOptions};
use etcd_client::GetOptions;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams, PostParams};

use super::spec::CheckSpec;
use crate::connections::ConnectionSpec;
use crate::connectors::{docker, etcd, kube as kc, vsphere};
use crate::error::{Error, ErrorCode, Result};
use crate::secrets::Secret;
use crate::vms::vsphere::{CloneTarget, Vim};
use crate::vms::{inventory, placement};

fn unique(prefix: &str) -> String {
    format!("{prefix}{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

async fn kube_client(kubeconfig: &str, contexts: &[String], secret: Option<&Secret>) -> Result<(kube::Client, String)> {
    kc::token_bound(contexts, secret.is_some())?;
    let kcfg = kc::read_kubeconfig(kubeconfig)?;
    let ctx = match contexts.first() {
        Some(c) => c.clone(),
        None => kcfg
            .current_context
            .clone()
            .or_else(|| kcfg.contexts.first().map(|c| c.name.clone()))
            .ok_or_else(|| Error::invalid(format!("kubeconfig {kubeconfig} defines no contexts")))?,
    };
    kc::resolve_contexts(&kcfg, kubeconfig, std::slice::from_ref(&ctx))?;
    Ok((kc::client_for(kcfg, &ctx, secret).await?, ctx))
}

/// The outcome of a round trip whose steps ran and whose cleanup was then
/// attempted anyway: a failed cleanup names what was left behind, also when
/// a step had already failed (e.g. the service went down in between).
fn settle<T>(steps: Result<T>, removed: Result<()>, left: &str) -> Result<T> {
    match (steps, removed) {
        (Ok(v), Ok(())) => Ok(v),
        (Err(e), Ok(())) => Err(e),
        (Ok(_), Err(r)) => Err(r.and(&format!("{left} was left behind, remove it by hand"))),
        (Err(e), Err(r)) => Err(e.and(&format!("cleaning up failed too ({r}): {left} was left behind, remove it by hand"))),
    }
}

fn need<'a>(c: &'a CheckSpec, v: &'a Option<String>, field: &str, why: &str) -> Result<&'a str> {
    v.as_deref().filter(|s| !s.trim().is_empty()).ok_or_else(|| Error::invalid(format!("check \"{}\": {why} needs `{field}`", c.name)))
}

pub async fn list(c: &CheckSpec, spec: &ConnectionSpec, secret: Option<&Secret>) -> Result<String> {
    match spec {
        ConnectionSpec::Etcd { endpoints, tls, username, .. } => {
            let prefix = c.prefix.as_deref().unwrap_or("/");
            let mut client = etcd::EtcdTarget::new(endpoints, tls.as_ref(), username.as_deref(), secret).connect().await?;
            let r = client
                .get(prefix, Some(GetOptions::new().with_prefix().with_count_only()))
                .await
                .map_err(|e| etcd::classify(e, "etcd", username.as_deref()))?;
            Ok(format!("{} keys under {prefix}", r.count()))
        }
        ConnectionSpec::Docker { host, tls, .. } => {
            let d = docker::connect(host, tls.as_ref()).await?;
            let images = d.list_images(Some(ListImagesOptions::default())).await.map_err(|e| docker::classify(e, host))?;
            Ok(format!("{} images", images.len()))
        }
        ConnectionSpec::Kubernetes { kubeconfig, contexts } => {
            let (client, ctx) = kube_client(kubeconfig, contexts, secret).await?;
            let ns = Api::<Namespace>::all(client).list(&ListParams::default()).await.map_err(|e| kc::classify(e, &ctx))?;
            Ok(format!("{} namespaces in {ctx}", ns.items.len()))
        }
        ConnectionSpec::Vsphere { url, username, thumbprint } => {
            let vim = Vim::new(vsphere::connect(url, username, secret, thumbprint.as_deref()).await?);
            let inv = inventory::load(&vim.client).await;
            vim.close().await;
            let inv = inv?;
            Ok(format!("{} VMs ({} templates), {} hosts", inv.vms.len(), inv.templates().count(), inv.hosts.len()))
        }
    }
}

pub async fn roundtrip(c: &CheckSpec, spec: &ConnectionSpec, secret: Option<&Secret>) -> Result<String> {
    match spec {
        ConnectionSpec::Etcd { endpoints, tls, username, .. } => {
            let prefix = need(c, &c.prefix, "prefix", "an etcd round trip")?;
            let mut client = etcd::EtcdTarget::new(endpoints, tls.as_ref(), username.as_deref(), secret).connect().await?;
            let key = unique(&format!("{}opsdeck-check-", prefix));
            let value = uuid::Uuid::new_v4().to_string();
            let classify = |e| etcd::classify(e, "etcd", username.as_deref());
            client.put(key.as_str(), value.as_str(), None).await.map_err(classify)?;
            let read = client.get(key.as_str(), None).await.map_err(classify);
            let removed = client.delete(key.as_str(), None).await.map(|_| ()).map_err(classify);
            let read = settle(read, removed, &format!("the key {key}"))?;
            match read.kvs().first() {
                Some(kv) if kv.value() == value.as_bytes() => Ok(format!("put, read back and deleted {key}")),
                _ => Err(Error::Internal(format!("{key} did not read back what was written"))),
            }
        }
        ConnectionSpec::Docker { host, tls, .. } => {
            let image = need(c, &c.image, "image", "a Docker round trip")?;
            let d = docker::connect(host, tls.as_ref()).await?;
            d.inspect_image(image).await.map_err(|e| match docker::classify(e, host) {
                Error::NotFound(_) => {
                    Error::NotFound(format!("image {image} is not on {host}: build or load it there first (no registry is used)"))
                }
                other => other,
            })?;
            let name = unique("opsdeck-check-");
            let body = ContainerCreateBody {
                image: Some(image.to_string()),
                cmd: Some(vec!["sh".into(), "-c".into(), "exit 0".into()]),
                host_config: Some(HostConfig { network_mode: Some("none".into()), ..Default::default() }),
                ..Default::default()
            };
            d.create_container(Some(CreateContainerOptions { name: Some(name.clone()), ..Default::default() }), body)
                .await
                .map_err(|e| docker::classify(e, host))?;
            let steps = async {
                d.start_container(&name, None).await.map_err(|e| docker::classify(e, host))?;
                let info = d.inspect_container(&name, None).await.map_err(|e| docker::classify(e, host))?;
                Ok::<_, Error>(info.state.and_then(|s| s.status).map(|s| format!("{s:?}").to_lowercase()).unwrap_or_default())
            }
            .await;
            let removed = d
                .remove_container(&name, Some(RemoveContainerOptions { force: true, ..Default::default() }))
                .await
                .map_err(|e| docker::classify(e, host));
            let state = settle(steps, removed, &format!("the container {name}"))?;
            Ok(format!("created, started ({state}), inspected and removed container {name} from {image}"))
        }
        ConnectionSpec::Kubernetes { kubeconfig, contexts } => {
            let (client, ctx) = kube_client(kubeconfig, contexts, secret).await?;
            let ns = c.namespace.as_deref().unwrap_or("default");
            let api: Api<ConfigMap> = Api::namespaced(client, ns);
            let name = unique("opsdeck-check-");
            let value = uuid::Uuid::new_v4().to_string();
            let cm: ConfigMap = serde_json::from_value(serde_json::json!({"metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "opsdeck-check"}}, "data": {"check": value}}))
                .map_err(|e| Error::Internal(e.to_string()))?;
            api.create(&PostParams::default(), &cm).await.map_err(|e| kc::classify(e, &ctx))?;
            let read = api.get(&name).await.map_err(|e| kc::classify(e, &ctx));
            let removed = api.delete(&name, &DeleteParams::default()).await.map(|_| ()).map_err(|e| kc::classify(e, &ctx));
            let read = settle(read, removed, &format!("the ConfigMap {ns}/{name}"))?;
            if read.data.and_then(|d| d.get("check").cloned()) != Some(value) {
                return Err(Error::Internal(format!("ConfigMap {ns}/{name} did not read back what was written")));
            }
            Ok(format!("created, read back and deleted ConfigMap {ns}/{name} in {ctx}"))
        }
        ConnectionSpec::Vsphere { url, username, thumbprint } => {
            let template = need(c, &c.template, "template", "a vSphere round trip")?;
            let vim = Vim::new(vsphere::connect(url, username, secret, thumbprint.as_deref()).await?);
            let r = vsphere_roundtrip(&vim, template).await;
            vim.close().await;
            r
        }
    }
}

/// Clone a small VM from the template, power it on, snapshot it, destroy it.
async fn vsphere_roundtrip(vim: &Vim, template: &str) -> Result<String> {
    let inv = inventory::load(&vim.client).await?;
    let t = inv
        .templates()
        .find(|v| v.name == template)
        .ok_or_else(|| Error::NotFound(format!("template \"{template}\" does not exist in vCenter")))?;
    let name = unique("opsdeck-check-");
    let probe = crate::vms::model::RequestSpec {
        name: name.clone(),
        template: template.into(),
        cpu: 1,
        memory_gb: 1,
        disk_gb: 1,
        network: String::new(),
        folder: String::new(),
        resource_pool: String::new(),
        department: "check".into(),
        purpose: "opsdeck check".into(),
        lease_end: String::new(),
        snapshot_schedule: Default::default(),
        customization_script: String::new(),
    };
    let placed = placement::place(&inv, &probe, placement::DEFAULT_MAX_VMS_PER_HOST)?;
    let pool = inv
        .root_pool_of_host(&placed.host)
        .map(String::from)
        .ok_or_else(|| Error::NotFound(format!("no resource pool for host {}", placed.host_name)))?;
    let config = crate::vms::vsphere::config_spec(1, 1, "opsdeck check: removed right after");
    let vm = match vim
        .clone_vm(
            &CloneTarget { template: &t.id, folder: &t.folder, name: &name, host: &placed.host, pool: &pool, datastore: &placed.datastore },
            &config,
            &|_| {},
        )
        .await
    {
        Ok(vm) => vm,
        // Lost vCenter while cloning: the clone may exist without our knowing its id.
        Err(e) if matches!(e.code(), ErrorCode::Unreachable | ErrorCode::Timeout) => {
            return Err(
                e.and(&format!("vCenter may have made the clone {name} before the connection broke: look for it and remove it by hand"))
            )
        }
        Err(e) => return Err(e),
    };
    let steps = async {
        vim.power_on(&vm, &|_| {}).await?;
        vim.snapshot(&vm, "opsdeck-check", "opsdeck check", &|_| {}).await?;
        Ok::<_, Error>(())
    }
    .await;
    let removed = async {
        vim.ensure_off(&vm).await?;
        vim.destroy(&vm).await
    }
    .await;
    settle(steps, removed, &format!("the test VM {name} ({vm})"))?;
    Ok(format!("cloned {name} from {template} on {}, powered on, snapshotted and destroyed it", placed.host_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settle_names_what_was_left_behind_and_keeps_the_first_error() {
        assert_eq!(settle(Ok(1), Ok(()), "the key k").unwrap(), 1);
        let e = settle::<()>(Err(Error::NotFound("no image".into())), Ok(()), "the key k").unwrap_err();
        assert_eq!((e.code(), e.to_string()), (ErrorCode::NotFound, "no image".into()));
        let e = settle(Ok(1), Err(Error::Forbidden("delete denied".into())), "the key k").unwrap_err();
        assert_eq!(e.code(), ErrorCode::Forbidden);
        assert_eq!(e.to_string(), "delete denied; the key k was left behind, remove it by hand");
        let e = settle::<()>(
            Err(Error::Unreachable("power on: connection broke".into())),
            Err(Error::Unreachable("refused".into())),
            "the test VM v",
        )
        .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Unreachable, "the step's error decides the category");
        assert_eq!(
            e.to_string(),
            "power on: connection broke; cleaning up failed too (refused): the test VM v was left behind, remove it by hand"
        );
    }
}
