//! Package URLs: building one for a component that lacks it, and asking the
//! shared purl module which OSV ecosystem a purl belongs to.
//!
//! Derivation only happens where the document itself says which ecosystem a
//! component belongs to: an SPDX `PACKAGE-MANAGER` reference in the
//! pre-purl notations of SPDX 2.2/2.3 Annex F (`maven-central`, `npm`,
//! `nuget`), a syft `syft:package:type` property, or a CycloneDX document
//! made by an ecosystem-specific generator (`cyclonedx-npm`,
//! `cyclonedx-maven-plugin`...). Guessing from names alone would produce
//! confident but wrong purls, which the matcher would then trust, so anything
//! else is reported as a warning instead.

/// The purl type a `syft:package:type` value stands for.
pub fn type_from_syft(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "npm" => "npm",
        "python" => "pypi",
        "java-archive" | "jenkins-plugin" => "maven",
        "go-module" => "golang",
        "rust-crate" => "cargo",
        "gem" => "gem",
        "php-composer" => "composer",
        "dotnet" => "nuget",
        "deb" => "deb",
        "apk" => "apk",
        "rpm" => "rpm",
        "dart-pub" => "pub",
        "hex" => "hex",
        "conan" => "conan",
        "cocoapods" => "cocoapods",
        "swift" => "swift",
        "hackage" => "hackage",
        "R-package" => "cran",
        _ => return None,
    })
}

/// The purl type that an ecosystem-specific CycloneDX generator implies.
pub fn type_from_tool(tool_name: &str) -> Option<&'static str> {
    let name = tool_name.rsplit('/').next().unwrap_or(tool_name);
    Some(match name {
        "cyclonedx-npm" | "cyclonedx-node-npm" | "bom" | "cyclonedx-node-module" => "npm",
        "cyclonedx-maven-plugin" | "cyclonedx-gradle-plugin" | "cyclonedx-core-java" => "maven",
        "cyclonedx-gomod" => "golang",
        "cyclonedx-php-composer" | "cyclonedx-php-library" => "composer",
        "cyclonedx-py" | "cyclonedx-python" | "cyclonedx-bom" => "pypi",
        "cyclonedx-dotnet" | "CycloneDX module for .NET" => "nuget",
        "cyclonedx-ruby" => "gem",
        "cargo-cyclonedx" => "cargo",
        _ => return None,
    })
}

/// Builds a purl of type `ty` from an ecosystem-spelled name (`@scope/name`,
/// `group:artifact`, a Go module path) and version.
pub fn from_name(
    ty: &str,
    group: Option<&str>,
    name: &str,
    version: Option<&str>,
) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    let (namespace, base): (Option<String>, &str) = match ty {
        "maven" => match group.filter(|g| !g.is_empty()) {
            Some(g) => (Some(g.to_owned()), name),
            None => {
                let (g, a) = name.split_once(':')?;
                (Some(g.to_owned()), a)
            }
        },
        "npm" | "composer" | "golang" => match group.filter(|g| !g.is_empty()) {
            Some(g) => (Some(g.to_owned()), name),
            None => match name.rsplit_once('/') {
                Some((ns, n)) => (Some(ns.to_owned()), n),
                None => (None, name),
            },
        },
        _ => (group.filter(|g| !g.is_empty()).map(str::to_owned), name),
    };
    if base.is_empty() {
        return None;
    }
    let mut out = format!("pkg:{ty}/");
    if let Some(ns) = namespace {
        for segment in ns.split('/').filter(|s| !s.is_empty()) {
            encode_into(&mut out, segment);
            out.push('/');
        }
    }
    encode_into(&mut out, base);
    if let Some(v) = version.filter(|v| !v.is_empty()) {
        out.push('@');
        encode_into(&mut out, v);
    }
    Some(out)
}

/// A purl from an SPDX `PACKAGE-MANAGER` reference in one of the Annex F
/// notations that predate purl.
pub fn from_spdx_locator(kind: &str, locator: &str) -> Option<String> {
    match kind {
        "maven-central" => {
            let mut parts = locator.split(':');
            let group = parts.next()?;
            let artifact = parts.next()?;
            let version = parts.next();
            from_name("maven", Some(group), artifact, version)
        }
        "npm" => {
            // `name@version`, where a scoped name itself starts with `@`.
            let (name, version) = match locator.rfind('@') {
                Some(0) | None => (locator, None),
                Some(i) => (locator.get(..i)?, locator.get(i + 1..)),
            };
            from_name("npm", None, name, version)
        }
        "nuget" => {
            let (name, version) = match locator.split_once('/') {
                Some((n, v)) => (n, Some(v)),
                None => (locator, None),
            };
            from_name("nuget", None, name, version)
        }
        _ => None,
    }
}

/// Percent-encodes a purl segment: everything but unreserved characters.
fn encode_into(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b'+') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push_str(&format!("{b:02X}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npm_scoped_names_encode_the_at_sign() {
        assert_eq!(
            from_name("npm", None, "@angular/core", Some("1.0.0")).as_deref(),
            Some("pkg:npm/%40angular/core@1.0.0")
        );
        assert_eq!(
            from_name("npm", Some("@babel"), "core", None).as_deref(),
            Some("pkg:npm/%40babel/core")
        );
    }

    #[test]
    fn maven_uses_group_as_namespace() {
        assert_eq!(
            from_spdx_locator("maven-central", "org.apache.tomcat:tomcat:9.0.0.M4").as_deref(),
            Some("pkg:maven/org.apache.tomcat/tomcat@9.0.0.M4")
        );
        assert_eq!(
            from_name("maven", None, "junit:junit", Some("4.12")).as_deref(),
            Some("pkg:maven/junit/junit@4.12")
        );
        assert_eq!(from_name("maven", None, "no-group", None), None);
    }

    #[test]
    fn annex_f_locators() {
        assert_eq!(
            from_spdx_locator("npm", "http-server@0.3.0").as_deref(),
            Some("pkg:npm/http-server@0.3.0")
        );
        assert_eq!(
            from_spdx_locator("npm", "@scope/x@1.2.3").as_deref(),
            Some("pkg:npm/%40scope/x@1.2.3")
        );
        assert_eq!(
            from_spdx_locator("nuget", "Microsoft.AspNet.MVC/5.0.0").as_deref(),
            Some("pkg:nuget/Microsoft.AspNet.MVC@5.0.0")
        );
        assert_eq!(from_spdx_locator("bower", "modernizr#2.6.2"), None);
    }

    #[test]
    fn go_module_paths_split_at_the_last_slash() {
        assert_eq!(
            from_name("golang", None, "github.com/pkg/errors", Some("v0.9.1")).as_deref(),
            Some("pkg:golang/github.com/pkg/errors@v0.9.1")
        );
    }
}
