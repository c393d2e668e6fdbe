//! Typed model capabilities: what a model listing states of each model (image
//! input, image generation, audio, video, tool calls), read from the shapes the
//! servers send. Pure code. A capability a listing says nothing of is unknown,
//! not absent: [`ModelInfo::known`] tells the two apart.
//!
//! | listing | read |
//! |---|---|
//! | g4f `/backend-api/v2/models` `{provider: [name]}` | names and providers; no capability |
//! | g4f `/backend-api/v2/models/<p>` `[{model, vision, image, audio, video}]` | the four booleans |
//! | OpenAI `{"data": [{id, ...}]}` (`g4f api`: `vision`, `image`, `audio`, `video`) | the same booleans, `tools` |
//! | ollama-style `capabilities: ["vision", "tools", ...]` | as named |
//! | OpenRouter-style `architecture.{input,output}_modalities`, `supported_parameters` | image input, image output, audio, video, `tools` |

use serde_json::Value;

// The capability bits. What each one means is written once, on its C form
// (`ffi::BACKEND_API_CAPABILITY_*`, where the header shows it); a test there keeps
// the numbers equal.
/// [`ffi::BACKEND_API_CAPABILITY_VISION`](crate::ffi::BACKEND_API_CAPABILITY_VISION).
pub const VISION: u32 = 1;
/// [`ffi::BACKEND_API_CAPABILITY_IMAGE`](crate::ffi::BACKEND_API_CAPABILITY_IMAGE).
pub const IMAGE: u32 = 2;
/// [`ffi::BACKEND_API_CAPABILITY_AUDIO`](crate::ffi::BACKEND_API_CAPABILITY_AUDIO).
pub const AUDIO: u32 = 4;
/// [`ffi::BACKEND_API_CAPABILITY_VIDEO`](crate::ffi::BACKEND_API_CAPABILITY_VIDEO).
pub const VIDEO: u32 = 8;
/// [`ffi::BACKEND_API_CAPABILITY_TOOLS`](crate::ffi::BACKEND_API_CAPABILITY_TOOLS).
pub const TOOLS: u32 = 16;

/// One model of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    pub id: String,
    /// The provider that serves it, when the listing says.
    pub provider: Option<String>,
    /// The capabilities the listing states the model has (bits above).
    pub capabilities: u32,
    /// The capabilities the listing states anything about, has or has not.
    pub known: u32,
}

impl ModelInfo {
    fn new(id: &str, provider: Option<&str>) -> ModelInfo {
        ModelInfo {
            id: id.to_owned(),
            provider: provider.map(str::to_owned),
            capabilities: 0,
            known: 0,
        }
    }

    /// Records what the listing states of `bit`.
    fn state(&mut self, bit: u32, has: bool) {
        self.known |= bit;
        if has {
            self.capabilities |= bit;
        }
    }

    /// Reads the capability fields of one model object.
    fn read(&mut self, m: &Value) {
        // A boolean, or a count (g4f's provider objects count image models).
        let flag = |v: &Value| v.as_bool().or_else(|| v.as_u64().map(|n| n > 0));
        for (key, bit) in [
            ("vision", VISION),
            ("image", IMAGE),
            ("audio", AUDIO),
            ("video", VIDEO),
            ("tools", TOOLS),
        ] {
            if let Some(has) = m.get(key).and_then(flag) {
                self.state(bit, has);
            }
        }
        if let Some(list) = m.get("capabilities").and_then(Value::as_array) {
            let names: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
            for (name, bit) in [("vision", VISION), ("tools", TOOLS), ("audio", AUDIO)] {
                self.state(bit, names.contains(&name));
            }
        }
        let modalities = |key: &str| -> Option<Vec<&str>> {
            let list = m.get("architecture")?.get(key)?.as_array()?;
            Some(list.iter().filter_map(Value::as_str).collect())
        };
        if let (Some(input), Some(output)) = (
            modalities("input_modalities"),
            modalities("output_modalities"),
        ) {
            self.state(VISION, input.contains(&"image"));
            self.state(IMAGE, output.contains(&"image"));
            self.state(AUDIO, input.contains(&"audio") || output.contains(&"audio"));
            self.state(VIDEO, input.contains(&"video") || output.contains(&"video"));
        }
        if let Some(params) = m.get("supported_parameters").and_then(Value::as_array) {
            self.state(TOOLS, params.iter().any(|p| p == "tools"));
        }
    }
}

/// The models of a listing's JSON text, in its order; `provider` names the
/// provider a per-provider listing was asked for. Entries that name no model are
/// skipped; text that is not a known shape gives none.
pub fn parse(json: &str, provider: Option<&str>) -> Vec<ModelInfo> {
    let Ok(v) = serde_json::from_str::<Value>(json) else {
        return Vec::new();
    };
    let objects = |list: &Vec<Value>| -> Vec<ModelInfo> {
        list.iter()
            .filter_map(|m| {
                let id = match m {
                    Value::String(s) => s.as_str(),
                    m => m
                        .get("id")
                        .or_else(|| m.get("model"))
                        .or_else(|| m.get("name"))?
                        .as_str()?,
                };
                let owner = m.get("provider").and_then(Value::as_str).or(provider);
                let mut info = ModelInfo::new(id, owner);
                info.read(m);
                Some(info)
            })
            .collect()
    };
    match &v {
        Value::Array(list) => objects(list),
        Value::Object(o) => match o.get("data").or_else(|| o.get("models")) {
            Some(Value::Array(list)) => objects(list),
            _ => o
                .iter()
                .filter_map(|(p, names)| Some((p, names.as_array()?)))
                .flat_map(|(p, names)| {
                    names
                        .iter()
                        .filter_map(Value::as_str)
                        .map(move |n| ModelInfo::new(n, Some(p)))
                })
                .collect(),
        },
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g4f_listings() {
        let all = parse(r#"{"P": ["a", "b"], "Q": ["c"]}"#, None);
        assert_eq!(all.len(), 3);
        assert_eq!(
            (all[2].id.as_str(), all[2].provider.as_deref(), all[2].known),
            ("c", Some("Q"), 0)
        );
        let one = parse(
            r#"[{"model": "v", "vision": true, "image": false, "audio": false, "video": false, "count": null}]"#,
            Some("P"),
        );
        assert_eq!(one[0].capabilities, VISION);
        assert_eq!(one[0].known, VISION | IMAGE | AUDIO | VIDEO);
        assert_eq!(one[0].provider.as_deref(), Some("P"));
    }

    #[test]
    fn openai_shapes() {
        let l = parse(
            r#"{"object": "list", "data": [
                {"id": "g", "image": true, "vision": false, "provider": false},
                {"id": "o", "capabilities": ["completion", "vision", "tools"]},
                {"id": "r", "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["text"]}, "supported_parameters": ["tools"]},
                {"id": "plain"}]}"#,
            None,
        );
        assert_eq!((l[0].capabilities, l[0].provider.as_deref()), (IMAGE, None));
        assert_eq!(l[1].capabilities, VISION | TOOLS);
        assert_eq!(l[2].capabilities, VISION | TOOLS);
        assert_eq!(l[2].known, VISION | IMAGE | AUDIO | VIDEO | TOOLS);
        assert_eq!((l[3].capabilities, l[3].known), (0, 0));
        assert!(parse("3", None).is_empty());
    }
}
