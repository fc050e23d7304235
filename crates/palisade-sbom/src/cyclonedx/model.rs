//! The part of the CycloneDX object model that Palisade reads, shared by the
//! JSON and XML readers.
//!
//! The types follow the published schemas 1.2 to 1.7 field by field, but keep
//! only what becomes inventory; everything else is skipped by serde without
//! being materialised. Strings are `Cow<'a, str>` so that the JSON reader
//! borrows from the input whenever a string has no escapes (most of a large
//! SBOM), which is what makes it fast; the XML reader fills the same types
//! with owned strings. There is no `#[serde(flatten)]` or untagged enum here:
//! both buffer the input and would halve the throughput.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A CycloneDX document.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bom<'a> {
    /// Always `CycloneDX` in JSON; absent in XML (the namespace says it).
    #[serde(borrow, default)]
    pub bom_format: Option<Cow<'a, str>>,
    /// `1.2` ... `1.7`.
    #[serde(borrow, default)]
    pub spec_version: Option<Cow<'a, str>>,
    /// `urn:uuid:...`.
    #[serde(borrow, default)]
    pub serial_number: Option<Cow<'a, str>>,
    /// Document metadata.
    #[serde(borrow, default)]
    pub metadata: Option<Metadata<'a>>,
    /// Top-level components; each may nest more.
    #[serde(borrow, default)]
    pub components: Option<Vec<Component<'a>>>,
    /// The dependency graph.
    #[serde(borrow, default)]
    pub dependencies: Option<Vec<Dependency<'a>>>,
}

/// `metadata`.
#[derive(Debug, Default, Deserialize)]
pub struct Metadata<'a> {
    /// RFC 3339 creation time.
    #[serde(borrow, default)]
    pub timestamp: Option<Cow<'a, str>>,
    /// Tools: an array of tools (1.2-1.4, deprecated later) or an object with
    /// `components` and `services` (1.5+).
    #[serde(borrow, default)]
    pub tools: Tools<'a>,
    /// The subject of the BOM.
    #[serde(borrow, default)]
    pub component: Option<Component<'a>>,
    /// Document-level properties.
    #[serde(borrow, default)]
    pub properties: Option<Vec<Property<'a>>>,
}

/// The tools that made the document, in either of CycloneDX's two shapes.
#[derive(Debug, Default)]
pub struct Tools<'a> {
    /// Tools, normalised to vendor/name/version.
    pub tools: Vec<Tool<'a>>,
}

/// A tool (the legacy shape) or a tool component or service (the 1.5 shape)
/// reduced to what the inventory keeps.
#[derive(Debug, Default, Deserialize)]
pub struct Tool<'a> {
    /// Legacy `vendor`.
    #[serde(borrow, default)]
    pub vendor: Option<Cow<'a, str>>,
    /// Component `group`, used as the vendor when there is no other.
    #[serde(borrow, default)]
    pub group: Option<Cow<'a, str>>,
    /// Component or service `author` (1.5-1.6).
    #[serde(borrow, default)]
    pub author: Option<Cow<'a, str>>,
    /// Component `publisher`.
    #[serde(borrow, default)]
    pub publisher: Option<Cow<'a, str>>,
    /// Component `supplier`.
    #[serde(borrow, default)]
    pub supplier: Option<OrganizationalEntity<'a>>,
    /// Service `provider`.
    #[serde(borrow, default)]
    pub provider: Option<OrganizationalEntity<'a>>,
    /// Tool name.
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
    /// Tool version.
    #[serde(borrow, default)]
    pub version: Option<Cow<'a, str>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Tools<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Tools<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of tools or an object with `components` and `services`")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Tools::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut tools = Vec::new();
                while let Some(t) = seq.next_element::<Tool<'a>>()? {
                    tools.push(t);
                }
                Ok(Tools { tools })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut tools = Vec::new();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    match key.as_ref() {
                        "components" | "services" => {
                            let list: Option<Vec<Tool<'a>>> = map.next_value()?;
                            tools.extend(list.unwrap_or_default());
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Tools { tools })
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// An organisational entity (`supplier`, `manufacturer`, `provider`).
#[derive(Debug, Default, Deserialize)]
pub struct OrganizationalEntity<'a> {
    /// Its name.
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
}

/// A component.
#[derive(Debug, Default, Deserialize)]
pub struct Component<'a> {
    /// `library`, `application`, `container`, `operating-system`...
    #[serde(borrow, default, rename = "type")]
    pub kind: Option<Cow<'a, str>>,
    /// Identifier for the dependency graph.
    #[serde(borrow, default, rename = "bom-ref")]
    pub bom_ref: Option<Cow<'a, str>>,
    /// The supplier organisation.
    #[serde(borrow, default)]
    pub supplier: Option<OrganizationalEntity<'a>>,
    /// The manufacturer organisation (1.6+).
    #[serde(borrow, default)]
    pub manufacturer: Option<OrganizationalEntity<'a>>,
    /// The author (a free string, deprecated in 1.6).
    #[serde(borrow, default)]
    pub author: Option<Cow<'a, str>>,
    /// The publisher.
    #[serde(borrow, default)]
    pub publisher: Option<Cow<'a, str>>,
    /// The group (Maven group id, npm scope...).
    #[serde(borrow, default)]
    pub group: Option<Cow<'a, str>>,
    /// The name.
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
    /// The version.
    #[serde(borrow, default)]
    pub version: Option<Cow<'a, str>>,
    /// `required`, `optional` or `excluded`.
    #[serde(borrow, default)]
    pub scope: Option<Cow<'a, str>>,
    /// Content hashes.
    #[serde(borrow, default)]
    pub hashes: Option<Vec<Hash<'a>>>,
    /// Licences.
    #[serde(borrow, default)]
    pub licenses: Option<Vec<LicenseChoice<'a>>>,
    /// CPE 2.2 or 2.3.
    #[serde(borrow, default)]
    pub cpe: Option<Cow<'a, str>>,
    /// Package URL.
    #[serde(borrow, default)]
    pub purl: Option<Cow<'a, str>>,
    /// Name-value properties (1.3+).
    #[serde(borrow, default)]
    pub properties: Option<Vec<Property<'a>>>,
    /// Nested components.
    #[serde(borrow, default)]
    pub components: Option<Vec<Component<'a>>>,
    /// Evidence (1.5+); only occurrences are kept.
    #[serde(borrow, default)]
    pub evidence: Option<Evidence<'a>>,
}

/// `hashes[]`.
#[derive(Debug, Default, Deserialize)]
pub struct Hash<'a> {
    /// `SHA-256`, `MD5`...
    #[serde(borrow, default)]
    pub alg: Option<Cow<'a, str>>,
    /// Hex digest.
    #[serde(borrow, default)]
    pub content: Option<Cow<'a, str>>,
}

/// `licenses[]`: a licence or an expression.
#[derive(Debug, Default, Deserialize)]
pub struct LicenseChoice<'a> {
    /// A single licence.
    #[serde(borrow, default)]
    pub license: Option<License<'a>>,
    /// An SPDX expression.
    #[serde(borrow, default)]
    pub expression: Option<Cow<'a, str>>,
}

/// A licence: an SPDX id or a free name.
#[derive(Debug, Default, Deserialize)]
pub struct License<'a> {
    /// SPDX licence id.
    #[serde(borrow, default)]
    pub id: Option<Cow<'a, str>>,
    /// Free-text name.
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
}

/// A name-value property.
#[derive(Debug, Default, Deserialize)]
pub struct Property<'a> {
    /// Name.
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
    /// Value.
    #[serde(borrow, default)]
    pub value: Option<Cow<'a, str>>,
}

/// `evidence`.
#[derive(Debug, Default, Deserialize)]
pub struct Evidence<'a> {
    /// Where the component was found.
    #[serde(borrow, default)]
    pub occurrences: Option<Vec<Occurrence<'a>>>,
}

/// `evidence.occurrences[]`.
#[derive(Debug, Default, Deserialize)]
pub struct Occurrence<'a> {
    /// A path or other location.
    #[serde(borrow, default)]
    pub location: Option<Cow<'a, str>>,
}

/// `dependencies[]`.
#[derive(Debug, Default, Deserialize)]
pub struct Dependency<'a> {
    /// The dependent.
    #[serde(borrow, default, rename = "ref")]
    pub reference: Option<Cow<'a, str>>,
    /// Its direct dependencies, as refs. In 1.2 and 1.3 JSON each is an
    /// object `{"ref": ...}`; 1.4 and later use plain strings.
    #[serde(borrow, default, rename = "dependsOn")]
    pub depends_on: Option<Vec<DependsOn<'a>>>,
}

/// One entry of `dependsOn`: a string, or a legacy `{"ref": ...}` object.
#[derive(Debug, Default)]
pub struct DependsOn<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for DependsOn<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = DependsOn<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a bom-ref string or an object with `ref`")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(DependsOn(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(DependsOn(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(DependsOn(Cow::Owned(v)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut found = None;
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    if key == "ref" {
                        let v: Cow<'a, str> = map.next_value::<CowStr<'a>>()?.0;
                        found = Some(v);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                found
                    .map(DependsOn)
                    .ok_or_else(|| de::Error::missing_field("ref"))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A string that borrows when it can.
struct CowStr<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for CowStr<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct W<'a>(#[serde(borrow)] Cow<'a, str>);
        W::deserialize(d).map(|w| CowStr(w.0))
    }
}
