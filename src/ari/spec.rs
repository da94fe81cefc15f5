//! The shape of ARI's route table: resources, their operations and parameters, as typed
//! values. [`super::routes`] fills it in; the router serves it and [`super::docs`] renders it
//! as Swagger 1.1 declarations, so what is documented is what is served.

use super::handlers::Handled;
use super::request::AriRequest;
use super::AriState;

/// An HTTP method ARI uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// DELETE.
    Delete,
}

impl Method {
    /// The method's name as Swagger's `httpMethod` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// In the path (`{channelId}`).
    Path,
    /// In the query string.
    Query,
    /// A field of the JSON body.
    Body,
}

impl ParamType {
    /// Swagger's `paramType`.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::Path => "path",
            ParamType::Query => "query",
            ParamType::Body => "body",
        }
    }
}

/// One parameter of an operation.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Its name, as clients send it.
    pub name: &'static str,
    /// What it is for.
    pub description: &'static str,
    /// Where it travels.
    pub param_type: ParamType,
    /// Swagger's `dataType` (`string`, `int`, `boolean`, `containers`...).
    pub data_type: &'static str,
    /// Whether the request is refused (400) without it.
    pub required: bool,
    /// Whether a comma-separated list of values is accepted.
    pub allow_multiple: bool,
    /// The values accepted, when they are a fixed list.
    pub values: &'static [&'static str],
}

/// How an operation is carried out.
#[derive(Clone, Copy)]
pub enum Handler {
    /// A REST call answered by this function.
    Rest(fn(AriState, AriRequest) -> Handled),
    /// The event WebSocket (`GET /events`).
    WebSocket,
    /// Documented for compatibility, answered 501.
    NotImplemented,
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Handler::Rest(_) => "Rest",
            Handler::WebSocket => "WebSocket",
            Handler::NotImplemented => "NotImplemented",
        })
    }
}

/// One operation: a method on a path.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// The path under `/ari` (`/channels/{channelId}/answer`).
    pub path: &'static str,
    /// The method.
    pub method: Method,
    /// The name clients call it by (`answer`).
    pub nickname: &'static str,
    /// One line on what it does.
    pub summary: &'static str,
    /// Swagger's `responseClass` (`void`, `Channel`, `List[Channel]`).
    pub response_class: &'static str,
    /// Its parameters.
    pub params: &'static [Param],
    /// The error statuses it answers with, and why.
    pub errors: &'static [(u16, &'static str)],
    /// What carries it out.
    pub handler: Handler,
}

/// A resource: one Swagger API declaration (`channels.json`).
#[derive(Debug, Clone, Copy)]
pub struct Resource {
    /// Its name (`channels`).
    pub name: &'static str,
    /// What it covers.
    pub description: &'static str,
    /// Its operations.
    pub operations: &'static [Operation],
    /// The models its declaration carries.
    pub models: &'static [&'static str],
}

/// A path parameter (always required).
pub const fn path(name: &'static str, description: &'static str) -> Param {
    Param {
        name,
        description,
        param_type: ParamType::Path,
        data_type: "string",
        required: true,
        allow_multiple: false,
        values: &[],
    }
}

/// An optional query parameter of `data_type`.
pub const fn query(
    name: &'static str,
    data_type: &'static str,
    description: &'static str,
) -> Param {
    Param {
        name,
        description,
        param_type: ParamType::Query,
        data_type,
        required: false,
        allow_multiple: false,
        values: &[],
    }
}

impl Param {
    /// The same parameter, required.
    pub const fn required(mut self) -> Param {
        self.required = true;
        self
    }

    /// The same parameter, accepting a comma-separated list.
    pub const fn multiple(mut self) -> Param {
        self.allow_multiple = true;
        self
    }

    /// The same parameter, limited to `values`.
    pub const fn one_of(mut self, values: &'static [&'static str]) -> Param {
        self.values = values;
        self
    }

    /// The same parameter, in the JSON body.
    pub const fn in_body(mut self) -> Param {
        self.param_type = ParamType::Body;
        self
    }
}
