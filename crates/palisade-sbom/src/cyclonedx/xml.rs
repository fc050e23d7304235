//! CycloneDX XML reader (schemas 1.0 to 1.7).
//!
//! A recursive-descent reader over `quick-xml`'s borrowed event stream: each
//! function reads one element of the CycloneDX XSD that carries inventory
//! (`bom`, `metadata`, `component`, `dependency`...) and skips every other
//! element wholesale with `read_to_end`, so unknown or irrelevant content
//! (pedigree ancestors, external references, services) can never be mistaken
//! for a component. It fills the same [`model`] the JSON reader fills, so both
//! encodings map to the inventory by one function. Element names are matched
//! by local name (prefixes are ignored); the root must be `bom` in a
//! `http://cyclonedx.org/schema/bom/1.x` namespace, whose suffix gives the
//! version. Nesting is bounded by [`Limits::max_depth`].

use std::borrow::Cow;

use palisade_inventory::Inventory;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::model::{
    Bom, Component, Dependency, DependsOn, Evidence, Hash, License, LicenseChoice, Metadata,
    Occurrence, OrganizationalEntity, Property, Tool, Tools,
};
use crate::SbomError;
use crate::common::Limits;
use crate::error::line_column;

const NS_PREFIX: &str = "http://cyclonedx.org/schema/bom/";

/// Reads a CycloneDX XML document.
pub fn read(bytes: &[u8], source_name: &str, limits: &Limits) -> Result<Inventory, SbomError> {
    let bom = parse(bytes, source_name, limits)?;
    super::to_inventory(bom, "cyclonedx-xml", source_name, limits)
}

/// Parses a CycloneDX XML document into the shared model.
pub fn parse(bytes: &[u8], source_name: &str, limits: &Limits) -> Result<Bom<'static>, SbomError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let (line, column) = line_column(bytes, e.valid_up_to());
            return Err(SbomError::at(
                source_name,
                line,
                column,
                "the document is not valid UTF-8 (Palisade reads UTF-8 XML only)",
            ));
        }
    };
    let mut x = Xml {
        r: Reader::from_str(text),
        bytes,
        src: source_name,
        depth: 0,
        max_depth: limits.max_depth,
    };
    loop {
        match x.next()? {
            Event::Start(e) => return x.root(&e, false),
            Event::Empty(e) => return x.root(&e, true),
            Event::Eof => {
                return Err(SbomError::UnknownFormat {
                    source_name: source_name.to_owned(),
                    reason: "an XML document without a root element".to_owned(),
                });
            }
            _ => {}
        }
    }
}

struct Xml<'a> {
    r: Reader<&'a [u8]>,
    bytes: &'a [u8],
    src: &'a str,
    depth: usize,
    max_depth: usize,
}

fn local(e: &BytesStart<'_>) -> Vec<u8> {
    e.local_name().as_ref().to_vec()
}

impl<'a> Xml<'a> {
    fn err_at(&self, offset: u64, msg: impl Into<String>) -> SbomError {
        let (line, column) = line_column(self.bytes, usize::try_from(offset).unwrap_or(usize::MAX));
        SbomError::at(self.src, line, column, msg)
    }

    fn next(&mut self) -> Result<Event<'a>, SbomError> {
        match self.r.read_event() {
            Ok(Event::Eof) if self.depth > 0 => {
                let pos = self.r.buffer_position();
                Err(self.err_at(
                    pos,
                    "unexpected end of document: an element is not closed (truncated file?)",
                ))
            }
            Ok(e) => Ok(e),
            Err(e) => {
                let pos = self.r.error_position();
                Err(self.err_at(pos, format!("malformed XML: {e}")))
            }
        }
    }

    fn enter(&mut self) -> Result<(), SbomError> {
        self.depth += 1;
        if self.depth > self.max_depth {
            let pos = self.r.buffer_position();
            return Err(SbomError::Limit {
                source_name: self.src.to_owned(),
                what: format!("element nesting at {}", {
                    let (l, c) =
                        line_column(self.bytes, usize::try_from(pos).unwrap_or(usize::MAX));
                    format!("line {l}, column {c}")
                }),
                limit: format!("{} levels", self.max_depth),
            });
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Skips the content of a started element.
    fn skip(&mut self, e: &BytesStart<'_>) -> Result<(), SbomError> {
        let name = e.name().as_ref().to_vec();
        match self.r.read_to_end(quick_xml::name::QName(&name)) {
            Ok(_) => Ok(()),
            Err(err) => {
                let pos = self.r.error_position().max(self.r.buffer_position());
                Err(self.err_at(
                    pos,
                    format!(
                        "malformed XML inside <{}>: {err}",
                        String::from_utf8_lossy(&name)
                    ),
                ))
            }
        }
    }

    /// The text content of a started element (entities resolved, CDATA kept,
    /// child elements skipped).
    fn text(&mut self, empty: bool) -> Result<String, SbomError> {
        let mut out = String::new();
        if empty {
            return Ok(out);
        }
        self.enter()?;
        loop {
            match self.next()? {
                Event::Text(t) => match t.xml10_content() {
                    Ok(s) => out.push_str(&s),
                    Err(err) => {
                        let pos = self.r.buffer_position();
                        return Err(self.err_at(pos, format!("bad text: {err}")));
                    }
                },
                Event::CData(c) => out.push_str(&String::from_utf8_lossy(&c.into_inner())),
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(ch)) => Some(ch.to_string()),
                        Ok(None) => {
                            let name = String::from_utf8_lossy(&r.into_inner()).into_owned();
                            quick_xml::escape::resolve_predefined_entity(&name).map(str::to_owned)
                        }
                        Err(_) => None,
                    };
                    match resolved {
                        Some(s) => out.push_str(&s),
                        None => {
                            let pos = self.r.buffer_position();
                            return Err(
                                self.err_at(pos, "unknown entity or bad character reference")
                            );
                        }
                    }
                }
                Event::Start(e) => self.skip(&e)?,
                Event::End(_) => break,
                _ => {}
            }
        }
        self.leave();
        Ok(out)
    }

    fn attr(&self, e: &BytesStart<'_>, name: &[u8]) -> Result<Option<String>, SbomError> {
        for a in e.attributes() {
            let a = match a {
                Ok(a) => a,
                Err(err) => {
                    let pos = self.r.buffer_position();
                    return Err(self.err_at(pos, format!("bad attribute: {err}")));
                }
            };
            if a.key.local_name().as_ref() == name {
                return match a.unescape_value() {
                    Ok(v) => Ok(Some(v.into_owned())),
                    Err(err) => {
                        let pos = self.r.buffer_position();
                        Err(self.err_at(pos, format!("bad attribute value: {err}")))
                    }
                };
            }
        }
        Ok(None)
    }

    /// Loops over the child elements of a started element, calling `f` with
    /// each child's local name, start tag and emptiness.
    fn children<F>(&mut self, empty: bool, mut f: F) -> Result<(), SbomError>
    where
        F: FnMut(&mut Self, &[u8], &BytesStart<'a>, bool) -> Result<(), SbomError>,
    {
        if empty {
            return Ok(());
        }
        self.enter()?;
        loop {
            match self.next()? {
                Event::Start(e) => {
                    let name = local(&e);
                    f(self, &name, &e, false)?;
                }
                Event::Empty(e) => {
                    let name = local(&e);
                    f(self, &name, &e, true)?;
                }
                Event::End(_) => break,
                _ => {}
            }
        }
        self.leave();
        Ok(())
    }

    fn skip_unless_empty(&mut self, e: &BytesStart<'_>, empty: bool) -> Result<(), SbomError> {
        if empty { Ok(()) } else { self.skip(e) }
    }

    fn root(&mut self, e: &BytesStart<'a>, empty: bool) -> Result<Bom<'static>, SbomError> {
        let name = local(e);
        if name == b"RDF" {
            return Err(SbomError::Unsupported {
                source_name: self.src.to_owned(),
                format: "SPDX RDF/XML".to_owned(),
                reason: "Palisade reads SPDX as JSON or tag-value".to_owned(),
            });
        }
        if name != b"bom" {
            return Err(SbomError::UnknownFormat {
                source_name: self.src.to_owned(),
                reason: format!(
                    "the XML root element is <{}>, not a CycloneDX <bom>",
                    String::from_utf8_lossy(&name)
                ),
            });
        }
        let mut version = None;
        for a in e.attributes().flatten() {
            let key = a.key.as_ref();
            if (key == b"xmlns" || key.starts_with(b"xmlns:"))
                && let Ok(v) = a.unescape_value()
                && let Some(ver) = v.strip_prefix(NS_PREFIX)
            {
                version = Some(ver.trim_end_matches('/').to_owned());
            }
        }
        let Some(version) = version else {
            return Err(SbomError::UnknownFormat {
                source_name: self.src.to_owned(),
                reason: format!("the <bom> element has no {NS_PREFIX}1.x namespace"),
            });
        };
        super::json::check_spec_version(Some(&version), "cyclonedx-xml", self.src)?;
        let mut bom = Bom {
            bom_format: Some(Cow::Borrowed("CycloneDX")),
            spec_version: Some(Cow::Owned(version)),
            serial_number: self.attr(e, b"serialNumber")?.map(Cow::Owned),
            ..Bom::default()
        };
        self.children(empty, |x, name, e, empty| {
            match name {
                b"metadata" => bom.metadata = Some(x.metadata(empty)?),
                b"components" => {
                    let list = x.components(empty)?;
                    bom.components.get_or_insert_with(Vec::new).extend(list);
                }
                b"dependencies" => {
                    let list = x.dependencies(empty)?;
                    bom.dependencies.get_or_insert_with(Vec::new).extend(list);
                }
                _ => x.skip_unless_empty(e, empty)?,
            }
            Ok(())
        })?;
        Ok(bom)
    }

    fn metadata(&mut self, empty: bool) -> Result<Metadata<'static>, SbomError> {
        let mut m = Metadata::default();
        self.children(empty, |x, name, e, empty| {
            match name {
                b"timestamp" => m.timestamp = Some(Cow::Owned(x.text(empty)?)),
                b"tools" => m.tools = x.tools(empty)?,
                b"component" => m.component = Some(x.component(e, empty)?),
                b"properties" => m.properties = Some(x.properties(empty)?),
                _ => x.skip_unless_empty(e, empty)?,
            }
            Ok(())
        })?;
        Ok(m)
    }

    fn tools(&mut self, empty: bool) -> Result<Tools<'static>, SbomError> {
        let mut tools = Vec::new();
        self.children(empty, |x, name, e, empty| {
            match name {
                b"tool" | b"service" => tools.push(x.tool(empty)?),
                b"components" => {
                    for c in x.components(empty)? {
                        tools.push(Tool {
                            group: c.group,
                            author: c.author,
                            publisher: c.publisher,
                            supplier: c.supplier,
                            name: c.name,
                            version: c.version,
                            ..Tool::default()
                        });
                    }
                }
                b"services" => {
                    x.children(empty, |x, name, e, empty| {
                        if name == b"service" {
                            tools.push(x.tool(empty)?);
                        } else {
                            x.skip_unless_empty(e, empty)?;
                        }
                        Ok(())
                    })?;
                }
                _ => x.skip_unless_empty(e, empty)?,
            }
            Ok(())
        })?;
        Ok(Tools { tools })
    }

    /// A legacy `tool` or a `service`.
    fn tool(&mut self, empty: bool) -> Result<Tool<'static>, SbomError> {
        let mut t = Tool::default();
        self.children(empty, |x, name, e, empty| {
            match name {
                b"vendor" => t.vendor = Some(Cow::Owned(x.text(empty)?)),
                b"group" => t.group = Some(Cow::Owned(x.text(empty)?)),
                b"name" => t.name = Some(Cow::Owned(x.text(empty)?)),
                b"version" => t.version = Some(Cow::Owned(x.text(empty)?)),
                b"provider" => t.provider = Some(x.org(empty)?),
                _ => x.skip_unless_empty(e, empty)?,
            }
            Ok(())
        })?;
        Ok(t)
    }

    fn org(&mut self, empty: bool) -> Result<OrganizationalEntity<'static>, SbomError> {
        let mut o = OrganizationalEntity::default();
        self.children(empty, |x, name, e, empty| {
            if name == b"name" {
                o.name = Some(Cow::Owned(x.text(empty)?));
            } else {
                x.skip_unless_empty(e, empty)?;
            }
            Ok(())
        })?;
        Ok(o)
    }

    fn components(&mut self, empty: bool) -> Result<Vec<Component<'static>>, SbomError> {
        let mut list = Vec::new();
        self.children(empty, |x, name, e, empty| {
            if name == b"component" {
                list.push(x.component(e, empty)?);
            } else {
                x.skip_unless_empty(e, empty)?;
            }
            Ok(())
        })?;
        Ok(list)
    }

    fn component(
        &mut self,
        start: &BytesStart<'_>,
        empty: bool,
    ) -> Result<Component<'static>, SbomError> {
        let mut c = Component {
            kind: self.attr(start, b"type")?.map(Cow::Owned),
            bom_ref: self.attr(start, b"bom-ref")?.map(Cow::Owned),
            ..Component::default()
        };
        self.children(empty, |x, name, e, empty| {
            match name {
                b"name" => c.name = Some(Cow::Owned(x.text(empty)?)),
                b"version" => c.version = Some(Cow::Owned(x.text(empty)?)),
                b"group" => c.group = Some(Cow::Owned(x.text(empty)?)),
                b"scope" => c.scope = Some(Cow::Owned(x.text(empty)?)),
                b"purl" => c.purl = Some(Cow::Owned(x.text(empty)?)),
                b"cpe" => c.cpe = Some(Cow::Owned(x.text(empty)?)),
                b"author" => c.author = Some(Cow::Owned(x.text(empty)?)),
                b"publisher" => c.publisher = Some(Cow::Owned(x.text(empty)?)),
                b"supplier" => c.supplier = Some(x.org(empty)?),
                b"manufacturer" => c.manufacturer = Some(x.org(empty)?),
                b"hashes" => {
                    let mut hashes = Vec::new();
                    x.children(empty, |x, name, e, empty| {
                        if name == b"hash" {
                            let alg = x.attr(e, b"alg")?;
                            let content = x.text(empty)?;
                            hashes.push(Hash {
                                alg: alg.map(Cow::Owned),
                                content: Some(Cow::Owned(content)),
                            });
                        } else {
                            x.skip_unless_empty(e, empty)?;
                        }
                        Ok(())
                    })?;
                    c.hashes = Some(hashes);
                }
                b"licenses" => {
                    let mut lic = Vec::new();
                    x.children(empty, |x, name, e, empty| {
                        match name {
                            b"license" => {
                                let mut l = License::default();
                                x.children(empty, |x, name, e, empty| {
                                    match name {
                                        b"id" => l.id = Some(Cow::Owned(x.text(empty)?)),
                                        b"name" => l.name = Some(Cow::Owned(x.text(empty)?)),
                                        _ => x.skip_unless_empty(e, empty)?,
                                    }
                                    Ok(())
                                })?;
                                lic.push(LicenseChoice {
                                    license: Some(l),
                                    expression: None,
                                });
                            }
                            b"expression" => lic.push(LicenseChoice {
                                license: None,
                                expression: Some(Cow::Owned(x.text(empty)?)),
                            }),
                            _ => x.skip_unless_empty(e, empty)?,
                        }
                        Ok(())
                    })?;
                    c.licenses = Some(lic);
                }
                b"properties" => c.properties = Some(x.properties(empty)?),
                b"components" => {
                    let list = x.components(empty)?;
                    c.components.get_or_insert_with(Vec::new).extend(list);
                }
                b"evidence" => {
                    let mut occ = Vec::new();
                    x.children(empty, |x, name, e, empty| {
                        if name == b"occurrences" {
                            x.children(empty, |x, name, e, empty| {
                                if name == b"occurrence" {
                                    // 1.6 XML: `location` is a child element.
                                    let mut loc = x.attr(e, b"location")?;
                                    x.children(empty, |x, name, e, empty| {
                                        if name == b"location" {
                                            loc = Some(x.text(empty)?);
                                        } else {
                                            x.skip_unless_empty(e, empty)?;
                                        }
                                        Ok(())
                                    })?;
                                    occ.push(Occurrence {
                                        location: loc.map(Cow::Owned),
                                    });
                                } else {
                                    x.skip_unless_empty(e, empty)?;
                                }
                                Ok(())
                            })?;
                        } else {
                            x.skip_unless_empty(e, empty)?;
                        }
                        Ok(())
                    })?;
                    c.evidence = Some(Evidence {
                        occurrences: Some(occ),
                    });
                }
                _ => x.skip_unless_empty(e, empty)?,
            }
            Ok(())
        })?;
        Ok(c)
    }

    fn properties(&mut self, empty: bool) -> Result<Vec<Property<'static>>, SbomError> {
        let mut list = Vec::new();
        self.children(empty, |x, name, e, empty| {
            if name == b"property" {
                let n = x.attr(e, b"name")?;
                let v = x.text(empty)?;
                list.push(Property {
                    name: n.map(Cow::Owned),
                    value: Some(Cow::Owned(v)),
                });
            } else {
                x.skip_unless_empty(e, empty)?;
            }
            Ok(())
        })?;
        Ok(list)
    }

    fn dependencies(&mut self, empty: bool) -> Result<Vec<Dependency<'static>>, SbomError> {
        let mut list = Vec::new();
        self.children(empty, |x, name, e, empty| {
            if name == b"dependency" {
                let r = x.attr(e, b"ref")?;
                let mut on = Vec::new();
                x.children(empty, |x, name, e, empty| {
                    if name == b"dependency"
                        && let Some(r) = x.attr(e, b"ref")?
                    {
                        on.push(DependsOn(Cow::Owned(r)));
                    }
                    x.skip_unless_empty(e, empty)
                })?;
                list.push(Dependency {
                    reference: r.map(Cow::Owned),
                    depends_on: Some(on),
                });
            } else {
                x.skip_unless_empty(e, empty)?;
            }
            Ok(())
        })?;
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Bom<'static>, SbomError> {
        parse(s.as_bytes(), "t.xml", &Limits::default())
    }

    #[test]
    fn reads_components_and_entities() {
        let bom = parse_str(
            r#"<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.4"><components>
            <component type="library" bom-ref="a"><name>a&amp;b</name><version>1</version>
            <pedigree><ancestors><component type="library"><name>not me</name></component></ancestors></pedigree>
            <components><component type="library"><name>child</name></component></components>
            </component></components></bom>"#,
        );
        let bom = bom.ok().unwrap_or_default();
        let comps = bom.components.unwrap_or_default();
        assert_eq!(comps.len(), 1);
        assert_eq!(comps.first().and_then(|c| c.name.as_deref()), Some("a&b"));
        assert_eq!(
            comps
                .first()
                .and_then(|c| c.components.as_ref())
                .map(Vec::len),
            Some(1)
        );
    }

    #[test]
    fn truncated_documents_name_the_position() {
        let err = parse_str(
            "<bom xmlns=\"http://cyclonedx.org/schema/bom/1.4\"><components>\n<component>",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.starts_with("t.xml: line 2"), "{err}");
    }

    #[test]
    fn refuses_other_roots() {
        assert!(matches!(
            parse_str("<rdf:RDF xmlns:rdf=\"x\"/>"),
            Err(SbomError::Unsupported { .. })
        ));
        assert!(matches!(
            parse_str("<html/>"),
            Err(SbomError::UnknownFormat { .. })
        ));
        assert!(matches!(
            parse_str("<bom xmlns=\"http://cyclonedx.org/schema/bom/2.0\"/>"),
            Err(SbomError::Unsupported { .. })
        ));
    }

    #[test]
    fn depth_is_limited() {
        let mut s = String::from("<bom xmlns=\"http://cyclonedx.org/schema/bom/1.4\"><components>");
        for _ in 0..100 {
            s.push_str("<component><components>");
        }
        assert!(matches!(parse_str(&s), Err(SbomError::Limit { .. })));
    }
}
