//! Reading an image without unpacking it: the `docker save` stream, each
//! layer's wanted files, and the merged root.

pub mod layer;
pub mod overlay;
pub mod paths;
pub mod save_archive;
pub mod tar_stream;
