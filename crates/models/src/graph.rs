//! Small edits of ONNX model files: expose an intermediate tensor as an output (the cut point of
//! fine-tuning), and append nodes, weights and outputs (exporting a trained classifier on top of
//! a backbone).
//!
//! Written by hand on the protobuf wire format, because the edits only append fields and drop
//! graph outputs: the crates with ONNX protobuf types are either large (tract-onnx, burn's
//! onnx-ir) or need protoc at build time (prost-build). Fields are copied verbatim, so everything
//! this module does not touch (opsets, metadata, weights) survives byte for byte.

use crate::error::{ModelError, ModelErrorKind};

fn bad(msg: impl Into<String>) -> ModelError {
    ModelError::new(ModelErrorKind::Config, format!("ONNX model file: {}", msg.into()))
}

// Field numbers from onnx.proto.
const MODEL_GRAPH: u32 = 7;
const MODEL_METADATA: u32 = 14;
const GRAPH_NODE: u32 = 1;
const GRAPH_INITIALIZER: u32 = 5;
const GRAPH_OUTPUT: u32 = 12;
const ELEM_FLOAT: u64 = 1;
const ELEM_INT64: u64 = 7;

/// Protobuf writer for the few ONNX messages this module builds.
#[derive(Default)]
struct Buf(Vec<u8>);

impl Buf {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn key(&mut self, field: u32, wire: u8) {
        self.varint(u64::from(field) << 3 | u64::from(wire));
    }
    fn int(&mut self, field: u32, v: i64) {
        self.key(field, 0);
        self.varint(v as u64);
    }
    fn bytes(&mut self, field: u32, b: &[u8]) {
        self.key(field, 2);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    fn float(&mut self, field: u32, v: f32) {
        self.key(field, 5);
        self.0.extend_from_slice(&v.to_le_bytes());
    }
}

/// One top-level field of a message: its number and its complete encoding (key included).
struct Field<'a> {
    number: u32,
    raw: &'a [u8],
    /// Payload of a length-delimited field.
    payload: &'a [u8],
}

fn read_varint(b: &[u8], pos: &mut usize) -> Result<u64, ModelError> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*pos).ok_or_else(|| bad("truncated varint"))?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Ok(v);
        }
    }
    Err(bad("varint longer than 10 bytes"))
}

fn fields(b: &[u8]) -> Result<Vec<Field<'_>>, ModelError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        let start = pos;
        let key = read_varint(b, &mut pos)?;
        let number = (key >> 3) as u32;
        let mut payload: &[u8] = &[];
        match key & 7 {
            0 => {
                read_varint(b, &mut pos)?;
            }
            1 => pos += 8,
            2 => {
                let len = usize::try_from(read_varint(b, &mut pos)?).map_err(|_| bad("length overflows"))?;
                let end =
                    pos.checked_add(len).filter(|&e| e <= b.len()).ok_or_else(|| bad("field runs past the end"))?;
                payload = &b[pos..end];
                pos = end;
            }
            5 => pos += 4,
            w => return Err(bad(format!("unsupported wire type {w} in field {number}"))),
        }
        if pos > b.len() {
            return Err(bad("field runs past the end"));
        }
        out.push(Field { number, raw: &b[start..pos], payload });
    }
    Ok(out)
}

/// A graph output of type float tensor (shape left to ONNX Runtime's inference).
fn float_output(name: &str) -> Vec<u8> {
    let mut tensor = Buf::default();
    tensor.int(1, ELEM_FLOAT as i64);
    let mut ty = Buf::default();
    ty.bytes(1, &tensor.0);
    let mut vi = Buf::default();
    vi.bytes(1, name.as_bytes());
    vi.bytes(2, &ty.0);
    vi.0
}

/// A node attribute.
#[derive(Debug, Clone)]
pub enum Attr {
    Int(i64),
    Ints(Vec<i64>),
    Float(f32),
}

/// A node to append: `op(inputs) -> outputs`.
#[derive(Debug, Clone)]
pub struct Node {
    pub op: String,
    pub name: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attrs: Vec<(String, Attr)>,
}

impl Node {
    pub fn new(op: &str, name: &str, inputs: &[&str], outputs: &[&str]) -> Self {
        let own = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
        Node { op: op.into(), name: name.into(), inputs: own(inputs), outputs: own(outputs), attrs: Vec::new() }
    }

    pub fn attr(mut self, name: &str, a: Attr) -> Self {
        self.attrs.push((name.into(), a));
        self
    }

    fn encode(&self) -> Vec<u8> {
        let mut b = Buf::default();
        for i in &self.inputs {
            b.bytes(1, i.as_bytes());
        }
        for o in &self.outputs {
            b.bytes(2, o.as_bytes());
        }
        b.bytes(3, self.name.as_bytes());
        b.bytes(4, self.op.as_bytes());
        for (name, a) in &self.attrs {
            let mut ab = Buf::default();
            ab.bytes(1, name.as_bytes());
            match a {
                Attr::Float(f) => {
                    ab.float(2, *f);
                    ab.int(20, 1);
                }
                Attr::Int(i) => {
                    ab.int(3, *i);
                    ab.int(20, 2);
                }
                Attr::Ints(v) => {
                    for i in v {
                        ab.int(8, *i);
                    }
                    ab.int(20, 7);
                }
            }
            b.bytes(5, &ab.0);
        }
        b.0
    }
}

/// A constant tensor (weights) to append.
#[derive(Debug, Clone)]
pub struct Initializer {
    pub name: String,
    pub dims: Vec<i64>,
    pub data: InitData,
}

#[derive(Debug, Clone)]
pub enum InitData {
    F32(Vec<f32>),
    I64(Vec<i64>),
}

impl Initializer {
    pub fn f32(name: &str, dims: &[usize], data: Vec<f32>) -> Self {
        Initializer { name: name.into(), dims: dims.iter().map(|&d| d as i64).collect(), data: InitData::F32(data) }
    }

    pub fn i64(name: &str, dims: &[usize], data: Vec<i64>) -> Self {
        Initializer { name: name.into(), dims: dims.iter().map(|&d| d as i64).collect(), data: InitData::I64(data) }
    }

    fn encode(&self) -> Vec<u8> {
        let mut b = Buf::default();
        for &d in &self.dims {
            b.int(1, d);
        }
        let (ty, raw): (u64, Vec<u8>) = match &self.data {
            InitData::F32(v) => (ELEM_FLOAT, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            InitData::I64(v) => (ELEM_INT64, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        };
        b.int(2, ty as i64);
        b.bytes(8, self.name.as_bytes());
        b.bytes(9, &raw);
        b.0
    }
}

/// What to add to a model's graph.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    pub nodes: Vec<Node>,
    pub initializers: Vec<Initializer>,
    /// Float tensors to expose as graph outputs.
    pub outputs: Vec<String>,
    /// Drop the graph's existing outputs except these.
    pub keep_outputs: Option<Vec<String>>,
    /// Model metadata (key, value) pairs to add.
    pub metadata: Vec<(String, String)>,
}

/// Output name of a graph `ValueInfoProto`.
fn value_info_name(vi: &[u8]) -> Result<String, ModelError> {
    let f = fields(vi)?;
    let name = f.iter().find(|f| f.number == 1).ok_or_else(|| bad("graph output without a name"))?;
    Ok(String::from_utf8_lossy(name.payload).into_owned())
}

/// Applies `edit` to the serialised model `model`, returning the new serialisation.
pub fn apply(model: &[u8], edit: &Edit) -> Result<Vec<u8>, ModelError> {
    let top = fields(model)?;
    if !top.iter().any(|f| f.number == MODEL_GRAPH) {
        return Err(bad("no graph (is this an ONNX model?)"));
    }
    let mut out = Buf::default();
    for f in &top {
        if f.number != MODEL_GRAPH {
            out.0.extend_from_slice(f.raw);
            continue;
        }
        let mut g = Buf::default();
        for gf in fields(f.payload)? {
            if gf.number == GRAPH_OUTPUT
                && let Some(keep) = &edit.keep_outputs
                && !keep.contains(&value_info_name(gf.payload)?)
            {
                continue;
            }
            g.0.extend_from_slice(gf.raw);
        }
        for n in &edit.nodes {
            g.bytes(GRAPH_NODE, &n.encode());
        }
        for i in &edit.initializers {
            g.bytes(GRAPH_INITIALIZER, &i.encode());
        }
        for o in &edit.outputs {
            g.bytes(GRAPH_OUTPUT, &float_output(o));
        }
        out.bytes(MODEL_GRAPH, &g.0);
    }
    for (k, v) in &edit.metadata {
        let mut e = Buf::default();
        e.bytes(1, k.as_bytes());
        e.bytes(2, v.as_bytes());
        out.bytes(MODEL_METADATA, &e.0);
    }
    Ok(out.0)
}

/// Names of the graph's outputs.
pub fn output_names(model: &[u8]) -> Result<Vec<String>, ModelError> {
    let top = fields(model)?;
    let graph = top.iter().find(|f| f.number == MODEL_GRAPH).ok_or_else(|| bad("no graph"))?;
    fields(graph.payload)?.iter().filter(|f| f.number == GRAPH_OUTPUT).map(|f| value_info_name(f.payload)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        for v in [0u64, 1, 127, 128, 300, 1 << 35, u64::MAX] {
            let mut b = Buf::default();
            b.varint(v);
            let mut pos = 0;
            assert_eq!(read_varint(&b.0, &mut pos).unwrap(), v);
            assert_eq!(pos, b.0.len());
        }
    }

    #[test]
    fn rejects_garbage_and_truncation() {
        assert!(apply(b"", &Edit::default()).is_err());
        assert!(apply(&[0x3a, 0x05, 0x01], &Edit::default()).is_err(), "graph field cut short");
        assert!(apply(&[0x0f], &Edit::default()).is_err(), "wire type 7");
    }

    #[test]
    fn appends_and_keeps_outputs() {
        // A model holding only a graph with outputs `a` and `b`.
        let mut g = Buf::default();
        g.bytes(GRAPH_OUTPUT, &float_output("a"));
        g.bytes(GRAPH_OUTPUT, &float_output("b"));
        let mut m = Buf::default();
        m.int(1, 8);
        m.bytes(MODEL_GRAPH, &g.0);
        assert_eq!(output_names(&m.0).unwrap(), ["a", "b"]);
        let edit = Edit { outputs: vec!["c".into()], keep_outputs: Some(vec!["b".into()]), ..Default::default() };
        let edited = apply(&m.0, &edit).unwrap();
        assert_eq!(output_names(&edited).unwrap(), ["b", "c"]);
        assert_eq!(&edited[..2], &[0x08, 0x08], "untouched fields copied verbatim");
    }
}
