//! XMP: RDF/XML read with roxmltree (no DTDs, so no entity bombs). Simple
//! properties may be attributes or elements; lists are rdf:Seq/Bag/Alt,
//! where an Alt's `x-default` item comes first.

use std::collections::HashMap;

pub const DC: &str = "http://purl.org/dc/elements/1.1/";
pub const PHOTOSHOP: &str = "http://ns.adobe.com/photoshop/1.0/";
pub const IPTC_CORE: &str = "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/";
pub const XMP_RIGHTS: &str = "http://ns.adobe.com/xap/1.0/rights/";
pub const TIFF: &str = "http://ns.adobe.com/tiff/1.0/";
pub const EXIF_EX: &str = "http://cipa.jp/exif/1.0/";
pub const AUX: &str = "http://ns.adobe.com/exif/1.0/aux/";
pub const IPTC_EXT: &str = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/";
const XMP_NOTE: &str = "http://ns.adobe.com/xmp/note/";
const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const XML: &str = "http://www.w3.org/XML/1998/namespace";

/// Top-level properties by (namespace URI, local name).
#[derive(Debug, Default)]
pub struct Xmp {
    values: HashMap<(String, String), Vec<String>>,
}

impl Xmp {
    /// Parses an XMP packet; the XML parser's message if it is not
    /// well-formed XML.
    pub fn parse(packet: &str) -> Result<Xmp, String> {
        let doc = roxmltree::Document::parse(packet_only(packet)).map_err(|e| e.to_string())?;
        let mut xmp = Xmp::default();
        let descriptions = doc
            .descendants()
            .filter(|n| n.has_tag_name((RDF, "Description")))
            // Only top-level descriptions (children of rdf:RDF) hold properties.
            .filter(|n| n.parent().is_some_and(|p| p.has_tag_name((RDF, "RDF"))));
        for description in descriptions {
            for attribute in description.attributes() {
                if let Some(ns) = attribute.namespace().filter(|ns| *ns != RDF && *ns != XML) {
                    xmp.push(ns, attribute.name(), attribute.value().to_owned());
                }
            }
            for property in description.children().filter(|n| n.is_element()) {
                let Some(ns) = property.tag_name().namespace() else {
                    continue;
                };
                let name = property.tag_name().name();
                for value in property_values(property) {
                    xmp.push(ns, name, value);
                }
                for (field_ns, field, value) in structure_fields(property) {
                    xmp.push(field_ns, &format!("{name}/{field}"), value);
                }
            }
        }
        Ok(xmp)
    }

    /// Adds the properties of the extended packet (JPEG only) that this
    /// one names by GUID in `xmpNote:HasExtendedXMP`: the writer moved them
    /// there. Its parser's message if that packet is not well-formed.
    pub fn add_extension(&mut self, extensions: &HashMap<String, String>) -> Result<(), String> {
        let Some(extension) = self
            .first(XMP_NOTE, "HasExtendedXMP")
            .and_then(|guid| extensions.get(guid))
        else {
            return Ok(());
        };
        for (key, values) in Xmp::parse(extension)?.values {
            self.values.entry(key).or_default().extend(values);
        }
        Ok(())
    }

    fn push(&mut self, ns: &str, name: &str, value: String) {
        self.values
            .entry((ns.to_owned(), name.to_owned()))
            .or_default()
            .push(value);
    }

    pub fn first(&self, ns: &str, name: &str) -> Option<&str> {
        self.values
            .get(&(ns.to_owned(), name.to_owned()))?
            .first()
            .map(String::as_str)
    }

    /// Every value of `field` (in namespace `ns`, as the property is) in the
    /// structures listed under property `name` (e.g. the City of each
    /// LocationShown), in document order.
    pub fn fields(&self, ns: &str, name: &str, field: &str) -> Vec<String> {
        self.all(ns, &format!("{name}/{field}"))
    }

    pub fn all(&self, ns: &str, name: &str) -> Vec<String> {
        self.values
            .get(&(ns.to_owned(), name.to_owned()))
            .cloned()
            .unwrap_or_default()
    }
}

/// The packet up to its `<?xpacket end=…?>` trailer. Writers that update
/// XMP in place (Lightroom, Photoshop) can leave stale bytes of a longer
/// earlier packet after it, which are not XML; ExifTool stops there too.
fn packet_only(packet: &str) -> &str {
    let end = packet
        .find("<?xpacket end=")
        .and_then(|at| Some(at + packet[at..].find("?>")? + 2));
    end.map_or(packet, |end| &packet[..end])
        .trim_end_matches('\0')
}

fn property_values(property: roxmltree::Node) -> Vec<String> {
    if let Some(resource) = property.attribute((RDF, "resource")) {
        return vec![resource.to_owned()];
    }
    let container = property.children().find(|n| {
        n.has_tag_name((RDF, "Alt")) || n.has_tag_name((RDF, "Seq")) || n.has_tag_name((RDF, "Bag"))
    });
    match container {
        Some(container) => {
            let mut items: Vec<(bool, String)> = container
                .children()
                .filter(|n| n.has_tag_name((RDF, "li")))
                .filter(|li| !li.children().any(|c| c.is_element()))
                // Capture One 8 wrote the language tag as the text of empty
                // descriptions and rights: no caption is literally that.
                .filter(|li| li.text() != Some("x-default"))
                .filter(|li| !has_fields_as_attributes(li))
                .map(|li| {
                    let is_default = li.attribute((XML, "lang")) == Some("x-default");
                    (is_default, li.text().unwrap_or_default().to_owned())
                })
                .collect();
            // Stable: x-default first, the rest in document order.
            items.sort_by_key(|(is_default, _)| !is_default);
            items.into_iter().map(|(_, text)| text).collect()
        }
        None if !property.children().any(|c| c.is_element()) => {
            vec![property.text().unwrap_or_default().to_owned()]
        }
        // Structures (e.g. LocationShown) are not top-level text values.
        None => Vec::new(),
    }
}

/// An `rdf:li` that is a structure written as attributes, not a value.
fn has_fields_as_attributes(item: &roxmltree::Node) -> bool {
    item.attributes()
        .any(|a| a.namespace().is_some_and(|ns| ns != RDF && ns != XML))
}

/// The text fields of each structure in a list property (an `rdf:li`
/// with `rdf:parseType="Resource"`, or holding an `rdf:Description`,
/// fields as elements or attributes), as (namespace, field, text).
fn structure_fields<'a>(property: roxmltree::Node<'a, 'a>) -> Vec<(&'a str, &'a str, String)> {
    let items = property
        .children()
        .filter(|n| n.has_tag_name((RDF, "Bag")) || n.has_tag_name((RDF, "Seq")))
        .flat_map(|list| list.children().filter(|n| n.has_tag_name((RDF, "li"))));
    let mut fields = Vec::new();
    for item in items {
        let holder = item
            .children()
            .find(|n| n.has_tag_name((RDF, "Description")))
            .unwrap_or(item);
        for attribute in holder.attributes() {
            if let Some(ns) = attribute.namespace().filter(|ns| *ns != RDF && *ns != XML) {
                fields.push((ns, attribute.name(), attribute.value().to_owned()));
            }
        }
        for field in holder.children().filter(|n| n.is_element()) {
            let simple = !field.children().any(|c| c.is_element());
            if let (Some(ns), true) = (field.tag_name().namespace(), simple) {
                let text = field.text().unwrap_or_default().to_owned();
                fields.push((ns, field.tag_name().name(), text));
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACKET: &str = r#"<?xpacket begin="﻿" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:Credit="Agence &amp; Co">
 <dc:description><rdf:Alt><rdf:li xml:lang="de">Bildunterschrift</rdf:li><rdf:li xml:lang="x-default">Подпись</rdf:li></rdf:Alt></dc:description>
 <dc:creator><rdf:Seq><rdf:li>王小明</rdf:li><rdf:li>Second</rdf:li></rdf:Seq></dc:creator>
 <photoshop:City>Harbin</photoshop:City>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"#;

    #[test]
    fn reads_attributes_elements_and_lists() {
        let xmp = Xmp::parse(PACKET).unwrap();
        assert_eq!(xmp.first(PHOTOSHOP, "Credit"), Some("Agence & Co"));
        assert_eq!(xmp.first(DC, "description"), Some("Подпись"));
        assert_eq!(xmp.all(DC, "creator"), ["王小明", "Second"]);
        assert_eq!(xmp.first(PHOTOSHOP, "City"), Some("Harbin"));
        assert_eq!(xmp.first(DC, "rights"), None);

        let capture_one = PACKET.replace("Подпись", "x-default");
        let xmp = Xmp::parse(&capture_one).unwrap();
        assert_eq!(xmp.first(DC, "description"), Some("Bildunterschrift"));
    }

    #[test]
    fn fields_of_listed_structures_are_read_in_order() {
        let packet = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">
 <Iptc4xmpExt:LocationShown><rdf:Bag>
  <rdf:li rdf:parseType="Resource"><Iptc4xmpExt:City>Київ</Iptc4xmpExt:City><Iptc4xmpExt:CountryName>Україна</Iptc4xmpExt:CountryName></rdf:li>
  <rdf:li><rdf:Description Iptc4xmpExt:City="Lviv"/></rdf:li>
  <rdf:li Iptc4xmpExt:City="Odesa"/>
 </rdf:Bag></Iptc4xmpExt:LocationShown>
</rdf:Description></rdf:RDF></x:xmpmeta>"#;
        let xmp = Xmp::parse(packet).unwrap();
        let city = xmp.fields(IPTC_EXT, "LocationShown", "City");
        assert_eq!(city, ["Київ", "Lviv", "Odesa"]);
        let country = xmp.fields(IPTC_EXT, "LocationShown", "CountryName");
        assert_eq!(country, ["Україна"]);
        assert_eq!(xmp.first(IPTC_EXT, "LocationShown"), None);
    }

    #[test]
    fn entity_declarations_and_garbage_are_refused() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><x>&b;</x>"#;
        assert!(Xmp::parse(bomb).is_err());
        assert!(Xmp::parse("<x:xmpmeta").is_err());
        assert!(Xmp::parse("").is_err());
    }

    #[test]
    fn stale_bytes_after_the_packet_trailer_are_ignored() {
        let stale = format!("{PACKET}li>\n       <rdf:Description\n  mwg-rs:Name=\"Old\"/>\0\0");
        let xmp = Xmp::parse(&stale).unwrap();
        assert_eq!(xmp.first(DC, "description"), Some("Подпись"));
        // Without the trailer nothing marks the end: the packet must be XML.
        let unwrapped = PACKET.replace(r#"<?xpacket end="w"?>"#, "");
        assert!(Xmp::parse(&format!("{unwrapped}li>")).is_err());
        assert!(Xmp::parse(&unwrapped).is_ok());
    }
}
