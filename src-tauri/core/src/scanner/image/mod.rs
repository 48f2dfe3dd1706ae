//! Reading an image without unpacking it: the `docker save` stream, each
//! layer's wanted files, and the merged root.

pub mod digest;
pub mod layer;
pub mod oci;
pub mod overlay;
pub mod paths;
pub mod save_archive;
pub mod tar_stream;
