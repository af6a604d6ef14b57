//! Installs the GraphiQL page's assets for the binary to serve itself, so that GraphiQL works
//! on a network without the internet (government intranets): a pinned GraphiQL release and the
//! React it runs on, taken from their npm packages (licences kept beside them) and embedded.
//! Nothing third-party is committed to the repository.
//!
//! The packages come from the npm registry through `npm pack` (which checks their integrity),
//! once per build directory. For a build machine without the registry, set
//! `RECTRACK_GRAPHIQL_DIR` to a folder holding the same files (those listed in `FILES`); a build
//! without either still succeeds, and its `/graphql` page says how to install the assets.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The pinned packages.
const PACKAGES: [&str; 3] = ["graphiql@3.8.3", "react@18.3.1", "react-dom@18.3.1"];

/// The files the page needs, as (package, path in the package, name served).
const FILES: [(&str, &str, &str); 8] = [
    ("graphiql", "graphiql.min.js", "graphiql.min.js"),
    ("graphiql", "graphiql.min.css", "graphiql.min.css"),
    ("graphiql", "LICENSE", "LICENSE.graphiql"),
    (
        "react",
        "umd/react.production.min.js",
        "react.production.min.js",
    ),
    ("react", "LICENSE", "LICENSE.react"),
    (
        "react-dom",
        "umd/react-dom.production.min.js",
        "react-dom.production.min.js",
    ),
    ("react-dom", "LICENSE", "LICENSE.react-dom"),
    ("graphiql", "package.json", "package.graphiql.json"),
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RECTRACK_GRAPHIQL_DIR");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let assets = out.join("graphiql");
    let ready = match std::env::var("RECTRACK_GRAPHIQL_DIR") {
        Ok(dir) if !dir.is_empty() => copy_from(Path::new(&dir), &assets),
        _ => complete(&assets) || install(&out, &assets),
    };
    let mut code = String::from(
        "/// The GraphiQL page's files, embedded by build.rs (name served, content).\n",
    );
    if ready {
        code.push_str("pub const FILES: &[(&str, &[u8])] = &[\n");
        for (_, _, name) in FILES {
            let path = assets.join(name);
            code.push_str(&format!(
                "    ({name:?}, include_bytes!({:?})),\n",
                path.display().to_string()
            ));
        }
        code.push_str("];\n");
    } else {
        println!(
            "cargo:warning=GraphiQL's assets could not be installed (no npm registry?); set RECTRACK_GRAPHIQL_DIR to a folder with them"
        );
        code.push_str("pub const FILES: &[(&str, &[u8])] = &[];\n");
    }
    std::fs::write(out.join("graphiql_assets.rs"), code).expect("write the asset table");
}

fn complete(assets: &Path) -> bool {
    FILES.iter().all(|(_, _, name)| assets.join(name).is_file())
}

fn copy_from(dir: &Path, assets: &Path) -> bool {
    let _ = std::fs::create_dir_all(assets);
    FILES
        .iter()
        .all(|(_, _, name)| std::fs::copy(dir.join(name), assets.join(name)).is_ok())
}

/// `npm pack` the pinned packages into the build directory and unpack the files needed.
fn install(out: &Path, assets: &Path) -> bool {
    let packs = out.join("npm-packs");
    let _ = std::fs::create_dir_all(&packs);
    let _ = std::fs::create_dir_all(assets);
    let packed = Command::new("npm")
        .args(["pack", "--silent", "--pack-destination"])
        .arg(&packs)
        .args(PACKAGES)
        .current_dir(&packs)
        .status()
        .is_ok_and(|s| s.success());
    if !packed {
        return false;
    }
    for package in PACKAGES {
        let (name, version) = package.split_once('@').expect("name@version");
        let tarball = packs.join(format!("{name}-{version}.tgz"));
        let into = packs.join(name);
        let _ = std::fs::create_dir_all(&into);
        let unpacked = Command::new("tar")
            .arg("xzf")
            .arg(&tarball)
            .arg("-C")
            .arg(&into)
            .status()
            .is_ok_and(|s| s.success());
        if !unpacked {
            return false;
        }
    }
    FILES.iter().all(|(package, path, name)| {
        std::fs::copy(
            packs.join(package).join("package").join(path),
            assets.join(name),
        )
        .is_ok()
    })
}
