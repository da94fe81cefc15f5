//! `GET /ari/api-docs/resources.json` and `/ari/api-docs/{resource}.json`: the Swagger 1.1
//! resource listing and one API declaration per resource, rendered from the route table
//! ([`super::routes::RESOURCES`]) and the models ([`super::models::MODELS`]). `basePath` is
//! absolute, built from the request's `Host`, because both client libraries resolve every
//! operation against it. The client libraries validate these strictly: every operation
//! has `responseClass`, every parameter `required` and `dataType`, every declaration
//! `models`; the resource listing says `swaggerVersion` 1.1 (aioswagger11 refuses others).

use serde_json::{json, Map, Value};

use super::models::{self, Model};
use super::routes::RESOURCES;
use super::spec::{Handler, Operation, Resource};

/// The ARI version pbx's interface follows (Asterisk 22's).
pub const API_VERSION: &str = "10.0.0";

/// The `basePath` for a request that came to `host` (`127.0.0.1:8088`).
pub fn base_path(host: &str) -> String {
    format!("http://{host}/ari")
}

/// The resource listing.
pub fn resource_listing(host: &str) -> Value {
    let apis: Vec<Value> = RESOURCES
        .iter()
        .map(|r| {
            json!({
                "path": format!("/api-docs/{}.{{format}}", r.name),
                "description": r.description,
            })
        })
        .collect();
    json!({
        "apiVersion": API_VERSION,
        "swaggerVersion": "1.1",
        "basePath": base_path(host),
        "apis": apis,
    })
}

/// The declaration of resource `name`, when there is one.
pub fn declaration(name: &str, host: &str) -> Option<Value> {
    let resource = RESOURCES.iter().find(|r| r.name == name)?;
    Some(json!({
        "apiVersion": API_VERSION,
        "swaggerVersion": "1.2",
        "basePath": base_path(host),
        "resourcePath": format!("/api-docs/{}.{{format}}", resource.name),
        "apis": apis(resource),
        "models": models_of(resource),
    }))
}

/// The resource's operations grouped by path, in the table's order.
fn apis(resource: &Resource) -> Vec<Value> {
    let mut paths: Vec<&str> = Vec::new();
    for op in resource.operations {
        if !paths.contains(&op.path) {
            paths.push(op.path);
        }
    }
    paths
        .into_iter()
        .map(|path| {
            let operations: Vec<Value> = resource
                .operations
                .iter()
                .filter(|op| op.path == path)
                .map(operation)
                .collect();
            json!({ "path": path, "description": resource.description, "operations": operations })
        })
        .collect()
}

fn operation(op: &Operation) -> Value {
    let parameters: Vec<Value> = op
        .params
        .iter()
        .map(|p| {
            let mut param = json!({
                "name": p.name,
                "description": p.description,
                "paramType": p.param_type.as_str(),
                "required": p.required,
                "allowMultiple": p.allow_multiple,
                "dataType": p.data_type,
            });
            if !p.values.is_empty() {
                param["allowableValues"] = json!({ "valueType": "LIST", "values": p.values });
            }
            param
        })
        .collect();
    let errors: Vec<Value> = op
        .errors
        .iter()
        .map(|(code, reason)| json!({ "code": code, "reason": reason }))
        .collect();
    let mut value = json!({
        "httpMethod": op.method.as_str(),
        "summary": op.summary,
        "nickname": op.nickname,
        "responseClass": op.response_class,
        "parameters": parameters,
        "errorResponses": errors,
    });
    if matches!(op.handler, Handler::WebSocket) {
        value["upgrade"] = json!("websocket");
        value["websocketProtocol"] = json!("ari");
    }
    value
}

fn models_of(resource: &Resource) -> Map<String, Value> {
    resource
        .models
        .iter()
        .filter_map(|id| models::find(id))
        .map(|m| (m.id.to_owned(), model(m)))
        .collect()
}

fn model(m: &Model) -> Value {
    let properties: Map<String, Value> = m
        .properties
        .iter()
        .map(|p| {
            (
                p.name.to_owned(),
                json!({ "type": p.data_type, "description": p.description, "required": p.required }),
            )
        })
        .collect();
    let mut value = json!({ "id": m.id, "description": m.description, "properties": properties });
    if let Some(base) = m.extends {
        value["extends"] = json!(base);
    }
    let subtypes: Vec<&str> = models::MODELS
        .iter()
        .filter(|other| other.extends == Some(m.id))
        .map(|other| other.id)
        .collect();
    if !subtypes.is_empty() {
        value["subTypes"] = json!(subtypes);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The types a declaration may name: primitives, its own models, and lists of either.
    fn known(ty: &str, models: &Map<String, Value>) -> bool {
        let inner = ty
            .strip_prefix("List[")
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(ty);
        [
            "void",
            "string",
            "int",
            "long",
            "boolean",
            "double",
            "Date",
            "object",
            "binary",
            "containers",
        ]
        .contains(&inner)
            || models.contains_key(inner)
    }

    #[test]
    fn every_declaration_names_only_types_it_defines_and_every_parameter_is_complete() {
        let listing = resource_listing("127.0.0.1:8088");
        assert_eq!(listing["basePath"], "http://127.0.0.1:8088/ari");
        let apis = listing["apis"].as_array().unwrap();
        assert!(apis.len() >= 10, "{listing}");
        for api in apis {
            let path = api["path"].as_str().unwrap();
            let name = path
                .strip_prefix("/api-docs/")
                .and_then(|p| p.strip_suffix(".{format}"))
                .unwrap();
            let decl = declaration(name, "h:1").unwrap();
            let models = decl["models"].as_object().unwrap();
            for (id, model) in models {
                assert_eq!(model["id"], id.as_str());
                for (prop, spec) in model["properties"].as_object().unwrap() {
                    let ty = spec["type"].as_str().unwrap();
                    assert!(known(ty, models), "{name}: {id}.{prop}: {ty}");
                }
            }
            for api in decl["apis"].as_array().unwrap() {
                for op in api["operations"].as_array().unwrap() {
                    let class = op["responseClass"].as_str().unwrap();
                    assert!(known(class, models), "{name}: {}: {class}", op["nickname"]);
                    for p in op["parameters"].as_array().unwrap() {
                        assert!(
                            p["required"].is_boolean() && p["dataType"].is_string(),
                            "{p}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_events_declaration_has_a_model_for_every_event_type() {
        let decl = declaration("events", "h:1").unwrap();
        for event in models::events() {
            assert!(decl["models"].get(event.id).is_some(), "{}", event.id);
        }
        assert!(declaration("nothing", "h:1").is_none());
    }
}
