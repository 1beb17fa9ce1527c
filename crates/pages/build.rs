//! Installs the front-end libraries named in web/package-lock.json from the
//! npm registry and copies the files the pages use into OUT_DIR, where
//! `web::assets` embeds them: the binary carries them, nothing is fetched at
//! run time, and the repository holds none of their code.

use std::path::{Path, PathBuf};
use std::process::Command;

/// (file under web/node_modules, name it is served under)
const LIBRARIES: &[(&str, &str)] =
    &[("htmx.org/dist/htmx.min.js", "htmx.min.js"), ("sortablejs/Sortable.min.js", "sortable.min.js")];

/// Files under web/node_modules that only the tests read, from there (a
/// devDependency, not embedded): axe-core for the browser accessibility pass.
const TEST_FILES: &[&str] = &["axe-core/axe.min.js"];

fn main() {
    let web = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR")).join("web");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-changed=web/package.json");
    println!("cargo:rerun-if-changed=web/package-lock.json");
    for source in LIBRARIES.iter().map(|(source, _)| *source).chain(TEST_FILES.iter().copied()) {
        // A missing file counts as changed, so deleting node_modules reinstalls.
        println!("cargo:rerun-if-changed=web/node_modules/{source}");
    }
    if !installed(&web) {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"])
            .current_dir(&web)
            .status()
            .unwrap_or_else(|err| panic!("cannot run npm (Node.js and npm are needed to build Rapport): {err}"));
        assert!(status.success(), "`npm ci` in {} failed", web.display());
    }
    for (source, name) in LIBRARIES {
        let from = web.join("node_modules").join(source);
        std::fs::copy(&from, out.join(name)).unwrap_or_else(|err| panic!("cannot copy {}: {err}", from.display()));
    }
}

/// npm has installed since the lock file last changed, and every library and test file is there.
/// (npm writes node_modules/.package-lock.json at install time; the packages'
/// own files carry a fixed old date.)
fn installed(web: &Path) -> bool {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let (Some(lock), Some(install)) =
        (modified(&web.join("package-lock.json")), modified(&web.join("node_modules/.package-lock.json")))
    else {
        return false;
    };
    install >= lock
        && LIBRARIES
            .iter()
            .map(|(source, _)| *source)
            .chain(TEST_FILES.iter().copied())
            .all(|source| web.join("node_modules").join(source).exists())
}
