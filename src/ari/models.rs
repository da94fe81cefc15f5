//! The JSON models of ARI as pbx serves them: every object an operation answers with and
//! every event type the WebSocket sends, with Asterisk's model and property names and types
//! (ari-client looks each event's type up here and fails on an unknown one; aioari picks the
//! objects of an event by these property types). The JSON itself is written by
//! [`super::json`]; its tests check each rendered object against its model here.

/// One property of a model.
#[derive(Debug, Clone, Copy)]
pub struct Property {
    /// Its name in the JSON object.
    pub name: &'static str,
    /// Swagger type: a primitive (`string`, `int`, `long`, `boolean`, `Date`, `object`), a
    /// model name, or `List[...]`.
    pub data_type: &'static str,
    /// Whether every object has it.
    pub required: bool,
    /// What it holds.
    pub description: &'static str,
}

/// A model: a named JSON object type.
#[derive(Debug, Clone, Copy)]
pub struct Model {
    /// Its name (`Channel`, `StasisStart`).
    pub id: &'static str,
    /// What it is.
    pub description: &'static str,
    /// Its properties.
    pub properties: &'static [Property],
    /// For an event, the base it extends (`Event`, itself extending `Message`).
    pub extends: Option<&'static str>,
}

const fn req(name: &'static str, data_type: &'static str, description: &'static str) -> Property {
    Property {
        name,
        data_type,
        required: true,
        description,
    }
}

const fn opt(name: &'static str, data_type: &'static str, description: &'static str) -> Property {
    Property {
        name,
        data_type,
        required: false,
        description,
    }
}

const fn model(
    id: &'static str,
    description: &'static str,
    properties: &'static [Property],
) -> Model {
    Model {
        id,
        description,
        properties,
        extends: None,
    }
}

const fn event(
    id: &'static str,
    description: &'static str,
    properties: &'static [Property],
) -> Model {
    Model {
        id,
        description,
        properties,
        extends: Some("Event"),
    }
}

/// The properties every event has (from `Message` and `Event`).
pub const EVENT_BASE: &[Property] = &[
    req("type", "string", "Indicates the type of this message."),
    opt(
        "asterisk_id",
        "string",
        "The unique ID of the server that sent the message.",
    ),
    req(
        "application",
        "string",
        "Name of the application receiving the event.",
    ),
    req("timestamp", "Date", "Time at which this event was created."),
    opt(
        "sequence",
        "long",
        "pbx: the event's place in the event stream; pass it as since= when reconnecting.",
    ),
];

/// Every model pbx documents.
pub const MODELS: &[Model] = &[
    model("CallerID", "Caller identification.", &[
        req("name", "string", "Display name."),
        req("number", "string", "Number."),
    ]),
    model("DialplanCEP", "Dialplan location (context/extension/priority).", &[
        req("context", "string", "Context in the dialplan."),
        req("exten", "string", "Extension in the dialplan."),
        req("priority", "long", "Priority in the dialplan."),
        opt("app_name", "string", "Name of the current dialplan application."),
        opt("app_data", "string", "Parameter of the current dialplan application."),
    ]),
    model("Channel", "A specific communication connection between pbx and an endpoint.", &[
        req("id", "string", "Unique identifier of the channel."),
        req("name", "string", "Name of the channel (i.e. PJSIP/6001-00000001)."),
        req("state", "string", "Its state (Down, Ring, Ringing, Up...)."),
        opt("protocol_id", "string", "The protocol id of the channel's dialog (SIP Call-ID)."),
        req("caller", "CallerID", "Who called."),
        req("connected", "CallerID", "Who the channel is connected to."),
        req("accountcode", "string", "Account code (empty in pbx)."),
        req("dialplan", "DialplanCEP", "Current location in the dialplan."),
        req("creationtime", "Date", "Timestamp when the channel was created."),
        req("language", "string", "The default spoken language."),
    ]),
    model("Bridge", "The merging of media from one or more channels.", &[
        req("id", "string", "Unique identifier for this bridge."),
        req("technology", "string", "Name of the current bridging technology."),
        req("bridge_type", "string", "Type of bridge technology (mixing, holding)."),
        req("bridge_class", "string", "Bridging class (stasis for an application's bridges)."),
        req("creator", "string", "Entity that created the bridge."),
        req("name", "string", "Name the creator gave the bridge."),
        req("channels", "List[string]", "Ids of channels participating in this bridge."),
        req("creationtime", "Date", "Timestamp when the bridge was created."),
    ]),
    model("Playback", "Object representing the playback of media to a channel.", &[
        req("id", "string", "ID for this playback operation."),
        req("media_uri", "string", "The URI for the media currently being played back."),
        opt("next_media_uri", "string", "If a list of URIs is being played, the next media URI to be played back."),
        req("target_uri", "string", "URI for the channel or bridge to play the media on."),
        req("language", "string", "For media types that support multiple languages, the language requested for playback."),
        req("state", "string", "Current state of the playback operation (queued, playing, paused, done, failed)."),
    ]),
    model("Endpoint", "An external device that may offer/accept calls to/from pbx.", &[
        req("technology", "string", "Technology of the endpoint (PJSIP)."),
        req("resource", "string", "Identifier of the endpoint, specific to the given technology."),
        opt("state", "string", "Endpoint's state (online, offline, unknown)."),
        req("channel_ids", "List[string]", "Id's of channels associated with this endpoint."),
    ]),
    model("Application", "Details of a Stasis application.", &[
        req("name", "string", "Name of this application."),
        req("channel_ids", "List[string]", "Id's for channels subscribed to."),
        req("bridge_ids", "List[string]", "Id's for bridges subscribed to."),
        req("endpoint_ids", "List[string]", "{tech}/{resource} for endpoints subscribed to."),
        req("device_names", "List[string]", "Names of the devices subscribed to."),
        req("events_allowed", "List[object]", "Event types sent to the application."),
        req("events_disallowed", "List[object]", "Event types not sent to the application."),
    ]),
    model("BuildInfo", "Info about how pbx was built.", &[
        req("os", "string", "OS the server was built on."),
        req("kernel", "string", "Kernel version the server was built on."),
        req("options", "string", "Compile time options, or empty string if default."),
        req("machine", "string", "Machine architecture."),
        req("date", "string", "Date and time when the server was built."),
        req("user", "string", "Username that built the server."),
    ]),
    model("SystemInfo", "Info about the server.", &[
        req("version", "string", "The version."),
        req("entity_id", "string", "The entity id (asterisk_id)."),
    ]),
    model("SetId", "Effective user/group id.", &[
        req("user", "string", "Effective user id."),
        req("group", "string", "Effective group id."),
    ]),
    model("ConfigInfo", "Info about the server's configuration.", &[
        req("name", "string", "The system name."),
        req("default_language", "string", "Default language for media playback."),
        req("setid", "SetId", "Effective user/group id for running the server."),
    ]),
    model("StatusInfo", "Info about the server's status.", &[
        req("startup_time", "Date", "Time when the server was started."),
        req("last_reload_time", "Date", "Time when the configuration was last reloaded."),
    ]),
    model("AsteriskInfo", "Server system information.", &[
        opt("build", "BuildInfo", "Info about how the server was built."),
        opt("system", "SystemInfo", "Info about the server."),
        opt("config", "ConfigInfo", "Info about the server's configuration."),
        opt("status", "StatusInfo", "Info about the server's status."),
    ]),
    model("AsteriskPing", "Answer to a ping.", &[
        req("asterisk_id", "string", "The server's id."),
        req("ping", "string", "Always pong."),
        req("timestamp", "string", "The time of the ping."),
    ]),
    model("Variable", "The value of a channel or global variable.", &[
        req("value", "string", "The value of the variable requested."),
    ]),
    model("FormatLangPair", "Identifies the format and language of a sound file.", &[
        req("language", "string", "The language."),
        req("format", "string", "The format (slin, ulaw...)."),
    ]),
    model("Sound", "A media file that may be played back.", &[
        req("id", "string", "Sound's identifier."),
        opt("text", "string", "Text description of the sound, usually the words spoken."),
        req("formats", "List[FormatLangPair]", "The formats and languages in which this sound is available."),
    ]),
    model("DeviceState", "Represents the state of a device.", &[
        req("name", "string", "Name of the device."),
        req("state", "string", "Device's state."),
    ]),
    model("Mailbox", "Represents the state of a mailbox.", &[
        req("name", "string", "Name of the mailbox."),
        req("old_messages", "int", "Count of old messages in the mailbox."),
        req("new_messages", "int", "Count of new messages in the mailbox."),
    ]),
    model("LiveRecording", "A recording that is in progress.", &[
        req("name", "string", "Base name for the recording."),
        req("format", "string", "Recording format (wav, gsm, etc.)."),
        req("target_uri", "string", "URI for the channel or bridge being recorded."),
        req("state", "string", "The state of the recording."),
        opt("duration", "int", "Duration in seconds of the recording."),
        opt("talking_duration", "int", "Duration of talking, in seconds, detected in the recording."),
        opt("silence_duration", "int", "Duration of silence, in seconds, detected in the recording."),
        opt("cause", "string", "Cause for recording failure if failed."),
    ]),
    model("StoredRecording", "A past recording that may be played back.", &[
        req("name", "string", "Name of the recording."),
        req("format", "string", "Format of the recording."),
    ]),
    model("Message", "Base type for errors and events.", &[
        req("type", "string", "Indicates the type of this message."),
        opt("asterisk_id", "string", "The unique ID of the server that sent the message."),
    ]),
    model("Event", "Base type for asynchronous events from pbx.", &[
        req("application", "string", "Name of the application receiving the event."),
        req("timestamp", "Date", "Time at which this event was created."),
    ]),
    event("StasisStart", "Notification that a channel has entered a Stasis application.", &[
        req("args", "List[string]", "Arguments to the application."),
        req("channel", "Channel", "The channel."),
        opt("replace_channel", "Channel", "The channel this one replaces."),
    ]),
    event("StasisEnd", "Notification that a channel has left a Stasis application.", &[
        req("channel", "Channel", "The channel."),
    ]),
    event("ChannelCreated", "Notification that a channel has been created.", &[
        req("channel", "Channel", "The channel."),
    ]),
    event("ChannelStateChange", "Notification of a channel's state change.", &[
        req("channel", "Channel", "The channel."),
    ]),
    event("ChannelDialplan", "Channel changed location in the dialplan.", &[
        req("channel", "Channel", "The channel that changed dialplan location."),
        req("dialplan_app", "string", "The application about to be executed."),
        req("dialplan_app_data", "string", "The data to be passed to the application."),
    ]),
    event("ChannelDtmfReceived", "DTMF received on a channel.", &[
        req("digit", "string", "DTMF digit received (0-9, A-E, # or *)."),
        req("duration_ms", "int", "Number of milliseconds DTMF was received."),
        req("channel", "Channel", "The channel on which DTMF was received."),
    ]),
    event("ChannelVarset", "Channel variable changed.", &[
        req("variable", "string", "The variable that changed."),
        req("value", "string", "The new value of the variable."),
        opt("channel", "Channel", "The channel on which the variable was set."),
    ]),
    event("ChannelHangupRequest", "A hangup was requested on the channel.", &[
        opt("cause", "int", "Integer representation of the cause of the hangup."),
        opt("soft", "boolean", "Whether the hangup request was a soft hangup request."),
        req("channel", "Channel", "The channel on which the hangup was requested."),
    ]),
    event("ChannelDestroyed", "Notification that a channel has been destroyed.", &[
        req("cause", "int", "Integer representation of the cause of the hangup."),
        req("cause_txt", "string", "Text representation of the cause of the hangup."),
        req("channel", "Channel", "The channel."),
    ]),
    event("BridgeCreated", "Notification that a bridge has been created.", &[
        req("bridge", "Bridge", "The bridge."),
    ]),
    event("BridgeDestroyed", "Notification that a bridge has been destroyed.", &[
        req("bridge", "Bridge", "The bridge."),
    ]),
    event("ChannelEnteredBridge", "Notification that a channel has entered a bridge.", &[
        req("bridge", "Bridge", "The bridge, with its members after the entry."),
        opt("channel", "Channel", "The channel."),
    ]),
    event("ChannelLeftBridge", "Notification that a channel has left a bridge.", &[
        req("bridge", "Bridge", "The bridge, with its members after the exit."),
        req("channel", "Channel", "The channel."),
    ]),
    event("PlaybackStarted", "Event showing the start of a media playback operation.", &[
        req("playback", "Playback", "Playback control object."),
    ]),
    event("PlaybackFinished", "Event showing the completion of a media playback operation.", &[
        req("playback", "Playback", "Playback control object."),
    ]),
    event("Dial", "Dialing state has changed.", &[
        opt("caller", "Channel", "The calling channel."),
        req("peer", "Channel", "The dialed channel."),
        opt("forward", "string", "Forwarding target requested by the original dialed channel."),
        opt("forwarded", "Channel", "Channel that the caller has been forwarded to."),
        opt("dialstring", "string", "The dial string for calling the peer channel."),
        req("dialstatus", "string", "Current status of the dialing attempt to the peer."),
    ]),
    event("ChannelHold", "A channel initiated a media hold.", &[
        req("channel", "Channel", "The channel that initiated the hold event."),
        opt("musicclass", "string", "The music on hold class that the initiator requested."),
    ]),
    event("ChannelUnhold", "A channel initiated a media unhold.", &[
        req("channel", "Channel", "The channel that initiated the unhold event."),
    ]),
    event("ChannelUserevent", "User-generated event with additional user-defined fields in the object.", &[
        req("eventname", "string", "The name of the user event."),
        opt("channel", "Channel", "A channel that is signaled with the user event."),
        opt("bridge", "Bridge", "A bridge that is signaled with the user event."),
        opt("endpoint", "Endpoint", "A endpoint that is signaled with the user event."),
        req("userevent", "object", "Custom Userevent data"),
    ]),
    event("ChannelConnectedLine", "Channel changed Connected Line.", &[
        req("channel", "Channel", "The channel whose connected line has changed."),
    ]),
    event("ChannelCallerid", "Channel changed Caller ID.", &[
        req("caller_presentation", "int", "The integer representation of the Caller Presentation value."),
        req("caller_presentation_txt", "string", "The text representation of the Caller Presentation value."),
        req("channel", "Channel", "The channel that changed Caller ID."),
    ]),
    event("EndpointStateChange", "Endpoint state changed.", &[
        req("endpoint", "Endpoint", "The endpoint."),
    ]),
    event("RecordingStarted", "Event showing the start of a recording operation.", &[
        req("recording", "LiveRecording", "Recording control object."),
    ]),
    event("RecordingFinished", "Event showing the completion of a recording operation.", &[
        req("recording", "LiveRecording", "Recording control object."),
    ]),
    event("RecordingFailed", "Event showing failure of a recording operation.", &[
        req("recording", "LiveRecording", "Recording control object."),
    ]),
    event("ApplicationReplaced", "Notification that another WebSocket has taken over for an application; this one gets no more of its events.", &[]),
];

/// The model named `id`.
pub fn find(id: &str) -> Option<&'static Model> {
    MODELS.iter().find(|m| m.id == id)
}

/// The event models (those extending `Event`).
pub fn events() -> impl Iterator<Item = &'static Model> {
    MODELS.iter().filter(|m| m.extends.is_some())
}
