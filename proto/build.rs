//! Generates the prost messages and tonic clients/servers for
//! `cryptanet.v1`, and writes the file descriptor set that the server
//! reflection service publishes.

use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "cryptanet/v1/common.proto",
    "cryptanet/v1/gateway.proto",
    "cryptanet/v1/deliver.proto",
    "cryptanet/v1/admin.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .file_descriptor_set_path(out_dir.join("cryptanet_v1_descriptor.bin"))
        .compile_protos(PROTOS, &["."])?;
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    Ok(())
}
