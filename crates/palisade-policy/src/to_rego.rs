//! Serialising a typed value straight into a regorus value.
//!
//! The input of every decision used to be written as a JSON text and parsed
//! back by regorus (`Value::from_json_str`), which was the largest remaining
//! cost of a decision after the digest (a third of it, on the benchmark
//! input). This is a `serde::Serializer` whose output is a `regorus::Value`:
//! the same document, built without the text. It follows serde_json's data
//! model exactly (`None` and unit as null, enums as serde_json writes them,
//! bytes as arrays of numbers, non-finite floats as null, map keys as
//! strings), so the value is equal to what parsing serde_json's text gives;
//! the tests check that on the scenario inputs and on random documents.
//! Struct field names are `'static` and shared through a per-thread cache,
//! as regorus's parser interns object keys.
//!
//! A struct becomes an object through the template of its shape (its field
//! names in order, also cached per thread): a compact object with those
//! keys, sorted, which is cloned (one allocation) and filled in. Building
//! each object as a `BTreeMap` and converting it to regorus's compact form
//! cost about a fifth more per conversion. Empty sequences share one empty
//! array.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use regorus::Value;
use regorus::value::Object;
use serde::ser::{self, Serialize};

/// Why a value could not be converted.
#[derive(Debug)]
pub(crate) struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, Error>;

/// Hashes the address and length of a `'static` field name: the names come
/// from a fixed set of string constants, so this is exact enough (two
/// constants with the same text only make two entries) and much cheaper
/// than hashing the text with SipHash on every field of every finding.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type KeyCache = HashMap<(usize, usize), Value, BuildHasherDefault<AddressHasher>>;

/// The shape of a struct as serialised (its field names in serialisation
/// order, by address and length), and an object with those keys and null
/// values, stored compactly (sorted), which each struct of that shape clones
/// and fills in. This builds an object with one allocation for its entries
/// instead of a `BTreeMap` (one node per eleven entries, searched on every
/// insert) converted afterwards into the same sorted entries.
struct Template {
    names: Box<[(usize, usize)]>,
    /// The keys in serialisation order.
    keys: Box<[Value]>,
    object: Object,
}

/// What one thread keeps between conversions: shared key strings and struct
/// shapes (both derived from the `'static` field names of the types
/// converted, never from the values), and scratch buffers.
struct Caches {
    keys: KeyCache,
    templates: HashMap<u64, Vec<Template>, BuildHasherDefault<AddressHasher>>,
    /// Emptied field buffers, reused by the next structs.
    buffers: Vec<Vec<(&'static str, Value)>>,
    /// The empty array, shared by every empty sequence (values are
    /// immutable and reference counted).
    empty_array: Value,
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            keys: KeyCache::default(),
            templates: HashMap::default(),
            buffers: Vec::new(),
            empty_array: Value::from(Vec::new()),
        }
    }
}

thread_local! {
    static CACHES: RefCell<Caches> = RefCell::new(Caches::default());
}

/// The caches, borrowed once per conversion.
type Keys<'k> = &'k RefCell<Caches>;

/// A field name as a shared regorus string.
fn key(keys: Keys<'_>, name: &'static str) -> Value {
    keys.borrow_mut()
        .keys
        .entry((name.as_ptr() as usize, name.len()))
        .or_insert_with(|| Value::from(name))
        .clone()
}

/// Converts `value` as serde_json would write it, then regorus parse it.
pub(crate) fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value> {
    CACHES.with(|keys| value.serialize(Serializer { keys }))
}

#[derive(Clone, Copy)]
struct Serializer<'k> {
    keys: Keys<'k>,
}

fn float(f: f64) -> Value {
    if f.is_finite() {
        Value::from(f)
    } else {
        Value::Null
    }
}

fn tagged(keys: Keys<'_>, variant: &'static str, value: Value) -> Value {
    let mut map = BTreeMap::new();
    map.insert(key(keys, variant), value);
    Value::from(map)
}

impl<'k> ser::Serializer for Serializer<'k> {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = Seq<'k>;
    type SerializeTuple = Seq<'k>;
    type SerializeTupleStruct = Seq<'k>;
    type SerializeTupleVariant = Seq<'k>;
    type SerializeMap = Map<'k>;
    type SerializeStruct = Struct<'k>;
    type SerializeStructVariant = Struct<'k>;

    fn serialize_bool(self, v: bool) -> Result<Value> {
        Ok(Value::from(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<Value> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<Value> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<Value> {
        // serde_json's parser reads a non-negative integer as a u64.
        Ok(match u64::try_from(v) {
            Ok(u) => Value::from(u),
            Err(_) => Value::from(v),
        })
    }
    fn serialize_i128(self, v: i128) -> Result<Value> {
        Ok(match u64::try_from(v) {
            Ok(u) => Value::from(u),
            Err(_) => match i64::try_from(v) {
                Ok(i) => Value::from(i),
                Err(_) => Value::from(v),
            },
        })
    }
    fn serialize_u8(self, v: u8) -> Result<Value> {
        Ok(Value::from(u64::from(v)))
    }
    fn serialize_u16(self, v: u16) -> Result<Value> {
        Ok(Value::from(u64::from(v)))
    }
    fn serialize_u32(self, v: u32) -> Result<Value> {
        Ok(Value::from(u64::from(v)))
    }
    fn serialize_u64(self, v: u64) -> Result<Value> {
        Ok(Value::from(v))
    }
    fn serialize_u128(self, v: u128) -> Result<Value> {
        Ok(match u64::try_from(v) {
            Ok(u) => Value::from(u),
            Err(_) => Value::from(v),
        })
    }
    fn serialize_f32(self, v: f32) -> Result<Value> {
        Ok(float(f64::from(v)))
    }
    fn serialize_f64(self, v: f64) -> Result<Value> {
        Ok(float(v))
    }
    fn serialize_char(self, v: char) -> Result<Value> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value> {
        Ok(Value::from(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value> {
        Ok(Value::from(
            v.iter()
                .map(|b| Value::from(u64::from(*b)))
                .collect::<Vec<_>>(),
        ))
    }
    fn serialize_none(self) -> Result<Value> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value> {
        Ok(key(self.keys, variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value> {
        Ok(tagged(self.keys, variant, value.serialize(self)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Seq<'k>> {
        Ok(Seq {
            keys: self.keys,
            items: Vec::with_capacity(len.unwrap_or(0)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'k>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq<'k>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Seq<'k>> {
        Ok(Seq {
            keys: self.keys,
            items: Vec::with_capacity(len),
            variant: Some(variant),
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Map<'k>> {
        Ok(Map {
            keys: self.keys,
            map: BTreeMap::new(),
            next_key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Struct<'k>> {
        Ok(Struct::new(self.keys, None))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Struct<'k>> {
        Ok(Struct::new(self.keys, Some(variant)))
    }
}

struct Seq<'k> {
    keys: Keys<'k>,
    items: Vec<Value>,
    variant: Option<&'static str>,
}

impl Seq<'_> {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.items
            .push(value.serialize(Serializer { keys: self.keys })?);
        Ok(())
    }
    fn done(self) -> Value {
        let array = if self.items.is_empty() {
            self.keys.borrow().empty_array.clone()
        } else {
            Value::from(self.items)
        };
        match self.variant {
            Some(v) => tagged(self.keys, v, array),
            None => array,
        }
    }
}

impl ser::SerializeSeq for Seq<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Value> {
        Ok(self.done())
    }
}

impl ser::SerializeTuple for Seq<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Value> {
        Ok(self.done())
    }
}

impl ser::SerializeTupleStruct for Seq<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Value> {
        Ok(self.done())
    }
}

impl ser::SerializeTupleVariant for Seq<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Value> {
        Ok(self.done())
    }
}

struct Map<'k> {
    keys: Keys<'k>,
    map: BTreeMap<Value, Value>,
    next_key: Option<Value>,
    variant: Option<&'static str>,
}

impl Map<'_> {
    fn done(self) -> Value {
        let object = Value::from(self.map);
        match self.variant {
            Some(v) => tagged(self.keys, v, object),
            None => object,
        }
    }
}

impl ser::SerializeMap for Map<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.next_key = Some(key.serialize(KeySerializer { keys: self.keys })?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self
            .next_key
            .take()
            .ok_or_else(|| Error("a map value without a key".into()))?;
        // serde_json writes a repeated key twice, and parsing keeps the last.
        self.map
            .insert(key, value.serialize(Serializer { keys: self.keys })?);
        Ok(())
    }
    fn end(self) -> Result<Value> {
        Ok(self.done())
    }
}

/// A struct being serialised: its fields in order, turned into an object
/// through the template of its shape.
struct Struct<'k> {
    keys: Keys<'k>,
    fields: Vec<(&'static str, Value)>,
    variant: Option<&'static str>,
}

impl<'k> Struct<'k> {
    fn new(keys: Keys<'k>, variant: Option<&'static str>) -> Self {
        let fields = keys.borrow_mut().buffers.pop().unwrap_or_default();
        Self {
            keys,
            fields,
            variant,
        }
    }

    fn push<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) -> Result<()> {
        let value = value.serialize(Serializer { keys: self.keys })?;
        self.fields.push((name, value));
        Ok(())
    }

    fn done(mut self) -> Value {
        let mut hash = AddressHasher::default();
        for (name, _) in &self.fields {
            hash.write_usize(name.as_ptr() as usize);
            hash.write_usize(name.len());
        }
        let hash = hash.finish();
        let same = |t: &Template| {
            t.names.len() == self.fields.len()
                && t.names
                    .iter()
                    .zip(&self.fields)
                    .all(|(n, (name, _))| *n == (name.as_ptr() as usize, name.len()))
        };
        let mut guard = self.keys.borrow_mut();
        let caches = &mut *guard;
        let bucket = caches.templates.entry(hash).or_default();
        let index = match bucket.iter().position(same) {
            Some(i) => i,
            None => {
                let keys: Vec<Value> = self
                    .fields
                    .iter()
                    .map(|(name, _)| {
                        caches
                            .keys
                            .entry((name.as_ptr() as usize, name.len()))
                            .or_insert_with(|| Value::from(*name))
                            .clone()
                    })
                    .collect();
                let nulls: BTreeMap<Value, Value> =
                    keys.iter().map(|k| (k.clone(), Value::Null)).collect();
                // `Value::from` stores the entries compactly (sorted).
                let object = match Value::from(nulls) {
                    Value::Object(o) => Object::clone(&o),
                    _ => Object::new(),
                };
                bucket.push(Template {
                    names: self
                        .fields
                        .iter()
                        .map(|(name, _)| (name.as_ptr() as usize, name.len()))
                        .collect(),
                    keys: keys.into_boxed_slice(),
                    object,
                });
                bucket.len() - 1
            }
        };
        let template = &bucket[index];
        let mut object = template.object.clone();
        // A repeated field name is one key: the last value wins, as when
        // parsing serde_json's text.
        for ((_, value), key) in self.fields.drain(..).zip(template.keys.iter()) {
            if let Some(slot) = object.get_mut(key) {
                *slot = value;
            }
        }
        caches.buffers.push(std::mem::take(&mut self.fields));
        let variant = self.variant;
        drop(guard);
        let object = Value::from(object);
        match variant {
            Some(v) => tagged(self.keys, v, object),
            None => object,
        }
    }
}

impl ser::SerializeStruct for Struct<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<()> {
        self.push(name, value)
    }
    fn end(self) -> Result<Value> {
        Ok(self.done())
    }
}

impl ser::SerializeStructVariant for Struct<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<()> {
        self.push(name, value)
    }
    fn end(self) -> Result<Value> {
        Ok(self.done())
    }
}

/// Map keys as serde_json accepts them: strings, and integers, booleans and
/// chars written as strings.
struct KeySerializer<'k> {
    keys: Keys<'k>,
}

fn key_error() -> Error {
    Error("key must be a string".into())
}

impl ser::Serializer for KeySerializer<'_> {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = ser::Impossible<Value, Error>;
    type SerializeTuple = ser::Impossible<Value, Error>;
    type SerializeTupleStruct = ser::Impossible<Value, Error>;
    type SerializeTupleVariant = ser::Impossible<Value, Error>;
    type SerializeMap = ser::Impossible<Value, Error>;
    type SerializeStruct = ser::Impossible<Value, Error>;
    type SerializeStructVariant = ser::Impossible<Value, Error>;

    fn serialize_bool(self, v: bool) -> Result<Value> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_i8(self, v: i8) -> Result<Value> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_i128(self, v: i128) -> Result<Value> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_u8(self, v: u8) -> Result<Value> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_u128(self, v: u128) -> Result<Value> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_f32(self, _v: f32) -> Result<Value> {
        Err(key_error())
    }
    fn serialize_f64(self, _v: f64) -> Result<Value> {
        Err(key_error())
    }
    fn serialize_char(self, v: char) -> Result<Value> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value> {
        Ok(Value::from(v))
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<Value> {
        Err(key_error())
    }
    fn serialize_none(self) -> Result<Value> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<Value> {
        Err(key_error())
    }
    fn serialize_unit(self) -> Result<Value> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value> {
        Err(key_error())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value> {
        Ok(key(self.keys, variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Value> {
        Err(key_error())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(key_error())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(key_error())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Err(key_error())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(key_error())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use proptest::prelude::*;

    fn via_text<T: serde::Serialize>(v: &T) -> regorus::Value {
        regorus::Value::from_json_str(&serde_json::to_string(v).unwrap()).unwrap()
    }

    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|n| serde_json::json!(n)),
            any::<u64>().prop_map(|n| serde_json::json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| serde_json::json!(f)),
            any::<String>().prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
                prop::collection::vec((any::<String>(), inner), 0..8)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn same_value_as_parsing_serde_json_text(v in json()) {
            prop_assert_eq!(super::to_value(&v).unwrap(), via_text(&v));
        }
    }

    #[test]
    fn typed_shapes() {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        enum E {
            Unit,
            New(u8),
            Tuple(u8, String),
            Struct { a: Option<u8>, b: f64 },
        }
        #[derive(serde::Serialize)]
        struct S {
            e: Vec<E>,
            bytes: Vec<u8>,
            keys: std::collections::BTreeMap<u32, bool>,
            none: Option<String>,
            nan: f64,
            c: char,
        }
        let s = S {
            e: vec![
                E::Unit,
                E::New(1),
                E::Tuple(2, "x".into()),
                E::Struct { a: None, b: 0.5 },
            ],
            bytes: vec![0, 255],
            keys: [(7, true)].into_iter().collect(),
            none: None,
            nan: f64::NAN,
            c: 'é',
        };
        assert_eq!(super::to_value(&s).unwrap(), via_text(&s));
    }
}
