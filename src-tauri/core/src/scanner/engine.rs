//! A Docker engine's images and containers, for the inventory tables.

use bollard::query_parameters::{ListContainersOptions, ListImagesOptions};
use bollard::Docker;
use serde::{Deserialize, Serialize};

use crate::connectors::docker::classify;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ImageRow {
    pub id: String,
    pub tags: Vec<String>,
    pub digests: Vec<String>,
    pub size: i64,
    /// Unix seconds.
    pub created: i64,
    /// Containers (any state) using it.
    pub containers: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ContainerRow {
    pub id: String,
    pub name: String,
    /// The image as the container was created from it (tag or id).
    pub image: String,
    pub image_id: String,
    /// `running`, `exited`, …
    pub state: String,
    /// Docker's human status (`Up 3 hours`).
    pub status: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct EngineInventory {
    pub images: Vec<ImageRow>,
    pub containers: Vec<ContainerRow>,
}

pub async fn inventory(docker: &Docker, host: &str) -> Result<EngineInventory> {
    let (images, containers) = tokio::try_join!(
        async { docker.list_images(Some(ListImagesOptions { all: false, ..Default::default() })).await.map_err(|e| classify(e, host)) },
        async {
            docker.list_containers(Some(ListContainersOptions { all: true, ..Default::default() })).await.map_err(|e| classify(e, host))
        },
    )?;
    let containers: Vec<ContainerRow> = containers
        .into_iter()
        .map(|c| ContainerRow {
            id: c.id.unwrap_or_default(),
            name: c.names.unwrap_or_default().first().map(|n| n.trim_start_matches('/').to_string()).unwrap_or_default(),
            image: c.image.unwrap_or_default(),
            image_id: c.image_id.unwrap_or_default(),
            state: c.state.map(|s| s.to_string()).unwrap_or_default(),
            status: c.status.unwrap_or_default(),
        })
        .collect();
    let images = images
        .into_iter()
        .map(|i| ImageRow {
            containers: containers.iter().filter(|c| c.image_id == i.id).count() as i64,
            tags: i.repo_tags.into_iter().filter(|t| t != "<none>:<none>").collect(),
            digests: i.repo_digests.into_iter().filter(|d| !d.ends_with("<none>")).collect(),
            size: i.size,
            created: i.created,
            id: i.id,
        })
        .collect();
    Ok(EngineInventory { images, containers })
}

/// Images of the running containers, each once, as the containers name them.
pub fn running_images(inv: &EngineInventory) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for c in inv.containers.iter().filter(|c| c.state == "running") {
        match out.iter_mut().find(|(id, _)| *id == c.image_id) {
            Some((_, names)) => names.push(c.name.clone()),
            None => out.push((c.image_id.clone(), vec![c.name.clone()])),
        }
    }
    out
}
