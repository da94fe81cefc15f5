//! ARI's route table: every resource and operation pbx serves under `/ari`, with Asterisk's
//! paths, nicknames, parameter names and response classes. The router
//! ([`super::router`]) and the Swagger documents ([`super::docs`]) are both built from it.
//! Operations pbx cannot carry out yet are listed too, so clients built from the documents
//! find them, and answer 501.

use super::handlers::{bridges, channels, playbacks, recordings, system};
use super::spec::Handler::{NotImplemented, Rest, WebSocket};
use super::spec::Method::{Delete, Get, Post, Put};
use super::spec::{path, query, Operation, Param, Resource};

const CHANNEL_ID: Param = path("channelId", "Channel's id");
const BRIDGE_ID: Param = path("bridgeId", "Bridge's id");
const PLAYBACK_ID: Param = path("playbackId", "Playback's id");
const MEDIA: Param = query(
    "media",
    "string",
    "Media URIs to play (sound:, recording:, digits:, number:, characters:, tone:).",
)
.required()
.multiple();
const LANG: Param = query("lang", "string", "For sounds, selects language for sound.");
const OFFSET: Param = query(
    "offsetms",
    "int",
    "Number of milliseconds to skip before playing.",
);
const SKIP: Param = query(
    "skipms",
    "int",
    "Number of milliseconds to skip for forward/reverse operations.",
);
/// The parameters of originate and originateWithId.
const ORIGINATE_ENDPOINT: Param =
    query("endpoint", "string", "Endpoint to call (PJSIP/6001).").required();
const EXTENSION: Param = query(
    "extension",
    "string",
    "The extension to dial after the endpoint answers.",
);
const CONTEXT: Param = query(
    "context",
    "string",
    "The context to dial after the endpoint answers.",
);
const PRIORITY: Param = query(
    "priority",
    "long",
    "The priority to dial after the endpoint answers.",
);
const LABEL: Param = query(
    "label",
    "string",
    "The label to dial after the endpoint answers.",
);
const APP: Param = query(
    "app",
    "string",
    "The application that is subscribed to the originated channel.",
);
const APP_ARGS: Param = query(
    "appArgs",
    "string",
    "The application arguments to pass to the Stasis application.",
);
const CALLER_ID: Param = query(
    "callerId",
    "string",
    "CallerID to use when dialing the endpoint or extension.",
);
const TIMEOUT: Param = query(
    "timeout",
    "int",
    "Timeout (in seconds) before giving up dialing.",
);
const VARIABLES: Param = query("variables", "containers", "The 'variables' key in the body object holds variable key/value pairs to set on the channel on creation.").in_body();
const OTHER_CHANNEL_ID: Param = query(
    "otherChannelId",
    "string",
    "The unique id to assign the second channel when using local channels.",
);
const ORIGINATOR: Param = query(
    "originator",
    "string",
    "The unique id of the channel which is originating this one.",
);
const FORMATS: Param = query(
    "formats",
    "string",
    "The format name capability list to use if originator is not specified.",
);
const RECORDING: Param = path("recordingName", "The name of the recording");
const PLAYBACK_QUERY: Param = query("playbackId", "string", "Playback ID.");
const BRIDGE_TYPES: &[&str] = &[
    "mixing",
    "holding",
    "dtmf_events",
    "proxy_media",
    "video_sfu",
    "video_single",
    "sdp_label",
];

/// Every resource, in the order the resource listing names them.
pub const RESOURCES: &[Resource] = &[
    Resource {
        name: "asterisk",
        description: "Server information and global variables",
        models: &["AsteriskInfo", "BuildInfo", "SystemInfo", "ConfigInfo", "SetId", "StatusInfo", "AsteriskPing", "Variable"],
        operations: &[
            Operation { path: "/asterisk/info", method: Get, nickname: "getInfo", summary: "Gets server information.", response_class: "AsteriskInfo",
                params: &[query("only", "string", "Filter information returned.").multiple().one_of(&["build", "system", "config", "status"])],
                errors: &[], handler: Rest(system::info) },
            Operation { path: "/asterisk/ping", method: Get, nickname: "ping", summary: "Response pong message.", response_class: "AsteriskPing",
                params: &[], errors: &[], handler: Rest(system::ping) },
            Operation { path: "/asterisk/variable", method: Get, nickname: "getGlobalVar", summary: "Get the value of a global variable.", response_class: "Variable",
                params: &[query("variable", "string", "The variable to get").required()],
                errors: &[(400, "Missing variable parameter.")], handler: NotImplemented },
            Operation { path: "/asterisk/variable", method: Post, nickname: "setGlobalVar", summary: "Set the value of a global variable.", response_class: "void",
                params: &[query("variable", "string", "The variable to set").required(), query("value", "string", "The value to set the variable to")],
                errors: &[(400, "Missing variable parameter.")], handler: NotImplemented },
        ],
    },
    Resource {
        name: "endpoints",
        description: "Endpoint resources",
        models: &["Endpoint"],
        operations: &[
            Operation { path: "/endpoints", method: Get, nickname: "list", summary: "List all endpoints.", response_class: "List[Endpoint]",
                params: &[], errors: &[], handler: Rest(system::endpoints) },
            Operation { path: "/endpoints/sendMessage", method: Put, nickname: "sendMessage", summary: "Send a message to some technology URI or endpoint.", response_class: "void",
                params: &[query("to", "string", "The endpoint resource or technology specific URI to send the message to.").required(), query("from", "string", "The endpoint resource or technology specific identity to send this message from.").required(), query("body", "string", "The body of the message")],
                errors: &[(400, "Invalid parameters for sending a message."), (404, "Endpoint not found")], handler: NotImplemented },
            Operation { path: "/endpoints/{tech}", method: Get, nickname: "listByTech", summary: "List available endoints for a given endpoint technology.", response_class: "List[Endpoint]",
                params: &[path("tech", "Technology of the endpoints (PJSIP)")], errors: &[(404, "Endpoints not found")], handler: Rest(system::endpoints_by_tech) },
            Operation { path: "/endpoints/{tech}/{resource}", method: Get, nickname: "get", summary: "Details for an endpoint.", response_class: "Endpoint",
                params: &[path("tech", "Technology of the endpoint"), path("resource", "ID of the endpoint")],
                errors: &[(400, "Invalid parameters for sending a message."), (404, "Endpoints not found")], handler: Rest(system::endpoint) },
        ],
    },
    Resource {
        name: "channels",
        description: "Channel resources",
        models: &["Channel", "CallerID", "DialplanCEP", "Playback", "Variable", "LiveRecording"],
        operations: &[
            Operation { path: "/channels", method: Get, nickname: "list", summary: "List all active channels.", response_class: "List[Channel]",
                params: &[], errors: &[], handler: Rest(channels::list) },
            Operation { path: "/channels", method: Post, nickname: "originate", summary: "Create a new channel (originate).", response_class: "Channel",
                params: &[
                    ORIGINATE_ENDPOINT,
                    EXTENSION,
                    CONTEXT,
                    PRIORITY,
                    LABEL,
                    APP,
                    APP_ARGS,
                    CALLER_ID,
                    TIMEOUT,
                    VARIABLES,
                    query("channelId", "string", "The unique id to assign the channel on creation."),
                    OTHER_CHANNEL_ID,
                    ORIGINATOR,
                    FORMATS,
                ],
                errors: &[(400, "Invalid parameters for originating a channel."), (409, "Channel with given unique ID already exists.")], handler: Rest(channels::originate) },
            Operation { path: "/channels/create", method: Post, nickname: "create", summary: "Create channel.", response_class: "Channel",
                params: &[query("endpoint", "string", "Endpoint for channel communication").required(), query("app", "string", "Stasis Application to place channel into").required(), query("appArgs", "string", "The application arguments to pass to the Stasis application"), query("channelId", "string", "The unique id to assign the channel on creation.")],
                errors: &[(409, "Channel with given unique ID already exists.")], handler: NotImplemented },
            Operation { path: "/channels/{channelId}", method: Get, nickname: "get", summary: "Channel details.", response_class: "Channel",
                params: &[CHANNEL_ID], errors: &[(404, "Channel not found")], handler: Rest(channels::get) },
            Operation { path: "/channels/{channelId}", method: Post, nickname: "originateWithId", summary: "Create a new channel (originate with id).", response_class: "Channel",
                params: &[
                    CHANNEL_ID,
                    ORIGINATE_ENDPOINT,
                    EXTENSION,
                    CONTEXT,
                    PRIORITY,
                    LABEL,
                    APP,
                    APP_ARGS,
                    CALLER_ID,
                    TIMEOUT,
                    VARIABLES,
                    OTHER_CHANNEL_ID,
                    ORIGINATOR,
                    FORMATS,
                ],
                errors: &[(400, "Invalid parameters for originating a channel."), (409, "Channel with given unique ID already exists.")], handler: Rest(channels::originate) },
            Operation { path: "/channels/{channelId}", method: Delete, nickname: "hangup", summary: "Delete (i.e. hangup) a channel.", response_class: "void",
                params: &[CHANNEL_ID, query("reason_code", "string", "The reason code (Q.850 cause) for hanging up the channel for detail use."), query("reason", "string", "Reason for hanging up the channel for simple use.").one_of(&["normal", "busy", "congestion", "no_answer", "timeout", "rejected", "unallocated", "normal_unspecified", "number_incomplete", "codec_mismatch", "interworking", "failure", "answered_elsewhere"])],
                errors: &[(400, "Invalid reason for hangup provided"), (404, "Channel not found")], handler: Rest(channels::hangup) },
            Operation { path: "/channels/{channelId}/continue", method: Post, nickname: "continueInDialplan", summary: "Exit application; continue execution in the dialplan.", response_class: "void",
                params: &[CHANNEL_ID, query("context", "string", "The context to continue to."), query("extension", "string", "The extension to continue to."), query("priority", "int", "The priority to continue to."), query("label", "string", "The label to continue to - will supersede 'priority' if both are provided.")],
                errors: &[(404, "Channel not found"), (409, "Channel not in a Stasis application"), (412, "Channel in invalid state")], handler: Rest(channels::continue_in_dialplan) },
            Operation { path: "/channels/{channelId}/redirect", method: Post, nickname: "redirect", summary: "Redirect the channel to a different location.", response_class: "void",
                params: &[CHANNEL_ID, query("endpoint", "string", "The endpoint to redirect the channel to").required()],
                errors: &[(404, "Channel or endpoint not found")], handler: NotImplemented },
            Operation { path: "/channels/{channelId}/answer", method: Post, nickname: "answer", summary: "Answer a channel.", response_class: "void",
                params: &[CHANNEL_ID], errors: &[(404, "Channel not found"), (409, "Channel not in a Stasis application"), (412, "Channel in invalid state")], handler: Rest(channels::answer) },
            Operation { path: "/channels/{channelId}/ring", method: Post, nickname: "ring", summary: "Indicate ringing to a channel.", response_class: "void",
                params: &[CHANNEL_ID], errors: &[(404, "Channel not found"), (409, "Channel not in a Stasis application")], handler: Rest(channels::ring) },
            Operation { path: "/channels/{channelId}/ring", method: Delete, nickname: "ringStop", summary: "Stop ringing indication on a channel if locally generated.", response_class: "void",
                params: &[CHANNEL_ID], errors: &[(404, "Channel not found"), (409, "Channel not in a Stasis application")], handler: NotImplemented },
            Operation { path: "/channels/{channelId}/progress", method: Post, nickname: "progress", summary: "Indicate progress (early media) to a channel.", response_class: "void",
                params: &[CHANNEL_ID], errors: &[(404, "Channel not found"), (409, "Channel not in a Stasis application")], handler: Rest(channels::progress) },
            Operation { path: "/channels/{channelId}/dtmf", method: Post, nickname: "sendDTMF", summary: "Send provided DTMF to a given channel.", response_class: "void",
                params: &[CHANNEL_ID, query("dtmf", "string", "DTMF To send."), query("before", "int", "Amount of time to wait before DTMF digits (specified in milliseconds) start."), query("between", "int", "Amount of time in between DTMF digits (specified in milliseconds)."), query("duration", "int", "Length of each DTMF digit (specified in milliseconds)."), query("after", "int", "Amount of time to wait after DTMF digits (specified in milliseconds) end.")],
                errors: &[(400, "DTMF is required"), (404, "Channel not found"), (409, "Channel not in a Stasis application")], handler: Rest(channels::send_dtmf) },
            Operation { path: "/channels/{channelId}/hold", method: Post, nickname: "hold", summary: "Hold a channel.", response_class: "void",
                params: &[CHANNEL_ID], errors: &[(404, "Channel not found"), (409, "Channel not in a Stasis application"), (422, "Channel is in a bridge")], handler: Rest(channels::hold_channel) },
            Operation { path: "/channels/{channelId}/hold", method: Delete, nickname: "unhold", summary: "Remove a channel from hold.", response_class: "void",
                params: &[CHANNEL_ID], errors: &[(404, "Channel not found")], handler: Rest(channels::unhold_channel) },
            Operation { path: "/channels/{channelId}/moh", method: Post, nickname: "startMoh", summary: "Play music on hold to a channel.", response_class: "void",
                params: &[CHANNEL_ID, query("mohClass", "string", "Music on hold class to use")], errors: &[(404, "Channel not found")], handler: Rest(channels::start_moh) },
            Operation { path: "/channels/{channelId}/moh", method: Delete, nickname: "stopMoh", summary: "Stop playing music on hold to a channel.", response_class: "void",
                params: &[CHANNEL_ID], errors: &[(404, "Channel not found")], handler: Rest(channels::stop_moh) },
            Operation { path: "/channels/{channelId}/mute", method: Post, nickname: "mute", summary: "Mute a channel.", response_class: "void",
                params: &[CHANNEL_ID, query("direction", "string", "Direction in which to mute audio").one_of(&["both", "in", "out"])], errors: &[(404, "Channel not found")], handler: Rest(channels::mute_channel) },
            Operation { path: "/channels/{channelId}/mute", method: Delete, nickname: "unmute", summary: "Unmute a channel.", response_class: "void",
                params: &[CHANNEL_ID, query("direction", "string", "Direction in which to unmute audio").one_of(&["both", "in", "out"])], errors: &[(404, "Channel not found")], handler: Rest(channels::unmute_channel) },
            Operation { path: "/channels/{channelId}/play", method: Post, nickname: "play", summary: "Start playback of media.", response_class: "Playback",
                params: &[CHANNEL_ID, MEDIA, LANG, OFFSET, SKIP, PLAYBACK_QUERY],
                errors: &[(404, "Channel not found"), (409, "Channel not in a Stasis application")], handler: Rest(channels::play) },
            Operation { path: "/channels/{channelId}/play/{playbackId}", method: Post, nickname: "playWithId", summary: "Start playback of media and specify the playbackId.", response_class: "Playback",
                params: &[CHANNEL_ID, PLAYBACK_ID, MEDIA, LANG, OFFSET, SKIP],
                errors: &[(404, "Channel not found"), (409, "Channel not in a Stasis application")], handler: Rest(channels::play) },
            Operation { path: "/channels/{channelId}/record", method: Post, nickname: "record", summary: "Start a recording.", response_class: "LiveRecording",
                params: &[CHANNEL_ID, query("name", "string", "Recording's filename").required(), query("format", "string", "Format to encode audio in (wav)").required(), query("maxDurationSeconds", "int", "Maximum duration of the recording, in seconds. 0 for no limit"), query("maxSilenceSeconds", "int", "Maximum duration of silence, in seconds. 0 for no limit"), query("ifExists", "string", "Action to take if a recording with the same name already exists.").one_of(&["fail", "overwrite", "append"]), query("beep", "boolean", "Play beep when recording begins"), query("terminateOn", "string", "DTMF input to terminate recording").one_of(&["none", "any", "*", "#"])],
                errors: &[(400, "Invalid parameters"), (404, "Channel not found"), (409, "Channel is not in a Stasis application; the channel is currently bridged with other channels; a recording with the same name already exists on the system and can not be overwritten because it is in progress or ifExists=fail"), (422, "The format specified is unknown on this system")], handler: Rest(channels::record) },
            Operation { path: "/channels/{channelId}/variable", method: Get, nickname: "getChannelVar", summary: "Get the value of a channel variable or function.", response_class: "Variable",
                params: &[CHANNEL_ID, query("variable", "string", "The channel variable or function to get").required()],
                errors: &[(400, "Missing variable parameter."), (404, "Channel or variable not found"), (409, "Channel not in a Stasis application")], handler: Rest(channels::get_variable) },
            Operation { path: "/channels/{channelId}/variable", method: Post, nickname: "setChannelVar", summary: "Set the value of a channel variable or function.", response_class: "void",
                params: &[CHANNEL_ID, query("variable", "string", "The channel variable or function to set").required(), query("value", "string", "The value to set the variable to")],
                errors: &[(400, "Missing variable parameter."), (404, "Channel not found"), (409, "Channel not in a Stasis application")], handler: Rest(channels::set_variable) },
            Operation { path: "/channels/{channelId}/snoop", method: Post, nickname: "snoopChannel", summary: "Start snooping.", response_class: "Channel",
                params: &[CHANNEL_ID, query("app", "string", "Application the snooping channel is placed into").required(), query("snoopId", "string", "Unique ID to assign to snooping channel")],
                errors: &[(404, "Channel not found")], handler: NotImplemented },
            Operation { path: "/channels/{channelId}/dial", method: Post, nickname: "dial", summary: "Dial a created channel.", response_class: "void",
                params: &[CHANNEL_ID, query("caller", "string", "Channel ID of caller"), query("timeout", "int", "Dial timeout")],
                errors: &[(404, "Channel cannot be found.")], handler: NotImplemented },
        ],
    },
    Resource {
        name: "bridges",
        description: "Bridge resources",
        models: &["Bridge", "Playback", "LiveRecording"],
        operations: &[
            Operation { path: "/bridges", method: Get, nickname: "list", summary: "List all active bridges.", response_class: "List[Bridge]",
                params: &[], errors: &[], handler: Rest(bridges::list) },
            Operation { path: "/bridges", method: Post, nickname: "create", summary: "Create a new bridge.", response_class: "Bridge",
                params: &[query("type", "string", "Comma separated list of bridge type attributes (mixing, holding, ...).").one_of(BRIDGE_TYPES), query("bridgeId", "string", "Unique ID to give to the bridge being created."), query("name", "string", "Name to give to the bridge being created.")],
                errors: &[(409, "Bridge with the same bridgeId already exists")], handler: Rest(bridges::create) },
            Operation { path: "/bridges/{bridgeId}", method: Post, nickname: "createWithId", summary: "Create a new bridge or updates an existing one.", response_class: "Bridge",
                params: &[BRIDGE_ID, query("type", "string", "Comma separated list of bridge type attributes.").one_of(BRIDGE_TYPES), query("name", "string", "Set the name of the bridge.")],
                errors: &[(409, "Bridge with the same bridgeId already exists")], handler: Rest(bridges::create_with_id) },
            Operation { path: "/bridges/{bridgeId}", method: Get, nickname: "get", summary: "Get bridge details.", response_class: "Bridge",
                params: &[BRIDGE_ID], errors: &[(404, "Bridge not found")], handler: Rest(bridges::get) },
            Operation { path: "/bridges/{bridgeId}", method: Delete, nickname: "destroy", summary: "Shut down a bridge.", response_class: "void",
                params: &[BRIDGE_ID], errors: &[(404, "Bridge not found")], handler: Rest(bridges::destroy) },
            Operation { path: "/bridges/{bridgeId}/addChannel", method: Post, nickname: "addChannel", summary: "Add a channel to a bridge.", response_class: "void",
                params: &[BRIDGE_ID, query("channel", "string", "Ids of channels to add to bridge").required().multiple(), query("role", "string", "Channel's role in the bridge"), query("absorbDTMF", "boolean", "Absorb DTMF coming from this channel, preventing it to pass through to the bridge"), query("mute", "boolean", "Mute audio from this channel, preventing it to pass through to the bridge"), query("inhibitConnectedLineUpdates", "boolean", "Do not present the identity of the newly connected channel to other bridge members")],
                errors: &[(400, "Channel not found"), (404, "Bridge not found"), (409, "Bridge not in Stasis application; Channel currently recording"), (422, "Channel not in Stasis application")], handler: Rest(bridges::add_channel) },
            Operation { path: "/bridges/{bridgeId}/removeChannel", method: Post, nickname: "removeChannel", summary: "Remove a channel from a bridge.", response_class: "void",
                params: &[BRIDGE_ID, query("channel", "string", "Ids of channels to remove from bridge").required().multiple()],
                errors: &[(400, "Channel not found"), (404, "Bridge not found"), (409, "Bridge not in Stasis application"), (422, "Channel not in this bridge")], handler: Rest(bridges::remove_channel) },
            Operation { path: "/bridges/{bridgeId}/play", method: Post, nickname: "play", summary: "Start playback of media on a bridge.", response_class: "Playback",
                params: &[BRIDGE_ID, MEDIA, LANG, OFFSET, SKIP, PLAYBACK_QUERY], errors: &[(404, "Bridge not found"), (409, "Bridge not in a Stasis application"), (422, "Media not found")], handler: Rest(bridges::play) },
            Operation { path: "/bridges/{bridgeId}/play/{playbackId}", method: Post, nickname: "playWithId", summary: "Start playback of media on a bridge and specify the playbackId.", response_class: "Playback",
                params: &[BRIDGE_ID, PLAYBACK_ID, MEDIA, LANG, OFFSET, SKIP], errors: &[(404, "Bridge not found"), (409, "Bridge not in a Stasis application"), (422, "Media not found")], handler: Rest(bridges::play) },
            Operation { path: "/bridges/{bridgeId}/record", method: Post, nickname: "record", summary: "Start a recording.", response_class: "LiveRecording",
                params: &[BRIDGE_ID, query("name", "string", "Recording's filename").required(), query("format", "string", "Format to encode audio in").required()],
                errors: &[(404, "Bridge not found")], handler: NotImplemented },
            Operation { path: "/bridges/{bridgeId}/moh", method: Post, nickname: "startMoh", summary: "Play music on hold to a bridge.", response_class: "void",
                params: &[BRIDGE_ID, query("mohClass", "string", "Channel's id")], errors: &[(404, "Bridge not found")], handler: NotImplemented },
            Operation { path: "/bridges/{bridgeId}/moh", method: Delete, nickname: "stopMoh", summary: "Stop playing music on hold to a bridge.", response_class: "void",
                params: &[BRIDGE_ID], errors: &[(404, "Bridge not found")], handler: NotImplemented },
        ],
    },
    Resource {
        name: "recordings",
        description: "Recording resources",
        models: &["StoredRecording", "LiveRecording"],
        operations: &[
            Operation { path: "/recordings/stored", method: Get, nickname: "listStored", summary: "List recordings that are complete.", response_class: "List[StoredRecording]",
                params: &[], errors: &[], handler: Rest(recordings::list_stored) },
            Operation { path: "/recordings/stored/{recordingName}", method: Get, nickname: "getStored", summary: "Get a stored recording's details.", response_class: "StoredRecording",
                params: &[RECORDING], errors: &[(404, "Recording not found")], handler: Rest(recordings::get_stored) },
            Operation { path: "/recordings/stored/{recordingName}", method: Delete, nickname: "deleteStored", summary: "Delete a stored recording.", response_class: "void",
                params: &[RECORDING], errors: &[(404, "Recording not found")], handler: Rest(recordings::delete_stored) },
            Operation { path: "/recordings/stored/{recordingName}/file", method: Get, nickname: "getStoredFile", summary: "Get the file associated with the stored recording.", response_class: "binary",
                params: &[RECORDING], errors: &[(403, "The recording file could not be opened"), (404, "Recording not found")], handler: Rest(recordings::get_stored_file) },
            Operation { path: "/recordings/live/{recordingName}", method: Get, nickname: "getLive", summary: "List live recordings.", response_class: "LiveRecording",
                params: &[RECORDING], errors: &[(404, "Recording not found")], handler: Rest(recordings::get_live) },
            Operation { path: "/recordings/live/{recordingName}", method: Delete, nickname: "cancel", summary: "Stop a live recording and discard it.", response_class: "void",
                params: &[RECORDING], errors: &[(404, "Recording not found")], handler: Rest(recordings::cancel) },
            Operation { path: "/recordings/live/{recordingName}/stop", method: Post, nickname: "stop", summary: "Stop a live recording and store it.", response_class: "void",
                params: &[RECORDING], errors: &[(404, "Recording not found")], handler: Rest(recordings::stop) },
            Operation { path: "/recordings/live/{recordingName}/pause", method: Post, nickname: "pause", summary: "Pause a live recording.", response_class: "void",
                params: &[RECORDING], errors: &[(404, "Recording not found"), (409, "Recording not in session")], handler: Rest(recordings::pause) },
            Operation { path: "/recordings/live/{recordingName}/pause", method: Delete, nickname: "unpause", summary: "Unpause a live recording.", response_class: "void",
                params: &[RECORDING], errors: &[(404, "Recording not found"), (409, "Recording not in session")], handler: Rest(recordings::unpause) },
            Operation { path: "/recordings/live/{recordingName}/mute", method: Post, nickname: "mute", summary: "Mute a live recording.", response_class: "void",
                params: &[RECORDING], errors: &[(404, "Recording not found"), (409, "Recording not in session")], handler: Rest(recordings::mute) },
            Operation { path: "/recordings/live/{recordingName}/mute", method: Delete, nickname: "unmute", summary: "Unmute a live recording.", response_class: "void",
                params: &[RECORDING], errors: &[(404, "Recording not found"), (409, "Recording not in session")], handler: Rest(recordings::unmute) },
        ],
    },
    Resource {
        name: "sounds",
        description: "Sound resources",
        models: &["Sound", "FormatLangPair"],
        operations: &[
            Operation { path: "/sounds", method: Get, nickname: "list", summary: "List all sounds.", response_class: "List[Sound]",
                params: &[query("lang", "string", "Lookup sound for a specific language."), query("format", "string", "Lookup sound in a specific format.")],
                errors: &[], handler: Rest(system::sounds) },
            Operation { path: "/sounds/{soundId}", method: Get, nickname: "get", summary: "Get a sound's details.", response_class: "Sound",
                params: &[path("soundId", "Sound's id")], errors: &[(404, "Sound not found")], handler: Rest(system::sound_get) },
        ],
    },
    Resource {
        name: "playbacks",
        description: "Playback control resources",
        models: &["Playback"],
        operations: &[
            Operation { path: "/playbacks/{playbackId}", method: Get, nickname: "get", summary: "Get a playback's details.", response_class: "Playback",
                params: &[PLAYBACK_ID], errors: &[(404, "The playback cannot be found")], handler: Rest(playbacks::get) },
            Operation { path: "/playbacks/{playbackId}", method: Delete, nickname: "stop", summary: "Stop a playback.", response_class: "void",
                params: &[PLAYBACK_ID], errors: &[(404, "The playback cannot be found")], handler: Rest(playbacks::stop) },
            Operation { path: "/playbacks/{playbackId}/control", method: Post, nickname: "control", summary: "Control a playback.", response_class: "void",
                params: &[PLAYBACK_ID, query("operation", "string", "Operation to perform on the playback.").required().one_of(&["restart", "pause", "unpause", "reverse", "forward"])],
                errors: &[(400, "The provided operation parameter was invalid"), (404, "The playback cannot be found"), (409, "The operation cannot be performed in the playback's current state")], handler: Rest(playbacks::control) },
        ],
    },
    Resource {
        name: "deviceStates",
        description: "Device state resources",
        models: &["DeviceState"],
        operations: &[
            Operation { path: "/deviceStates", method: Get, nickname: "list", summary: "List all ARI controlled device states.", response_class: "List[DeviceState]",
                params: &[], errors: &[], handler: Rest(system::empty_list) },
            Operation { path: "/deviceStates/{deviceName}", method: Get, nickname: "get", summary: "Retrieve the current state of a device.", response_class: "DeviceState",
                params: &[path("deviceName", "Name of the device")], errors: &[], handler: NotImplemented },
        ],
    },
    Resource {
        name: "mailboxes",
        description: "Mailboxes resources",
        models: &["Mailbox"],
        operations: &[
            Operation { path: "/mailboxes", method: Get, nickname: "list", summary: "List all mailboxes.", response_class: "List[Mailbox]",
                params: &[], errors: &[], handler: Rest(system::empty_list) },
            Operation { path: "/mailboxes/{mailboxName}", method: Get, nickname: "get", summary: "Retrieve the current state of a mailbox.", response_class: "Mailbox",
                params: &[path("mailboxName", "Name of the mailbox")], errors: &[(404, "Mailbox not found")], handler: NotImplemented },
        ],
    },
    Resource {
        name: "events",
        description: "WebSocket resource",
        models: &[
            "Message", "Event", "Channel", "CallerID", "DialplanCEP", "Bridge", "Playback",
            "StasisStart", "StasisEnd", "ChannelCreated", "ChannelStateChange", "ChannelDialplan",
            "ChannelDtmfReceived", "ChannelVarset", "ChannelHangupRequest", "ChannelDestroyed",
            "BridgeCreated", "BridgeDestroyed", "ChannelEnteredBridge", "ChannelLeftBridge",
            "PlaybackStarted", "PlaybackFinished", "Dial", "ApplicationReplaced",
            "ChannelHold", "ChannelUnhold", "ChannelCallerid", "ChannelConnectedLine", "ChannelUserevent", "EndpointStateChange", "Endpoint",
            "RecordingStarted", "RecordingFinished", "RecordingFailed", "LiveRecording",
        ],
        operations: &[
            Operation { path: "/events", method: Get, nickname: "eventWebsocket", summary: "WebSocket connection for events.", response_class: "Message",
                params: &[query("app", "string", "Applications to subscribe to.").required().multiple(), query("subscribeAll", "boolean", "Subscribe to all events, not only those of the applications' channels."), query("since", "long", "pbx: replay the events after this sequence number first.")],
                errors: &[], handler: WebSocket },
            Operation { path: "/events/user/{eventName}", method: Post, nickname: "userEvent", summary: "Generate a user event.", response_class: "void",
                params: &[path("eventName", "Event name"), query("application", "string", "The name of the application that will receive this event").required(), query("source", "string", "URI for event source (channel:{channelId}, bridge:{bridgeId})").multiple(), query("variables", "containers", "The 'variables' key in the body object holds custom key/value pairs to add to the user event.").in_body()],
                errors: &[(400, "Invalid event source URI or userevent data."), (404, "Application does not exist."), (422, "Event source not found.")], handler: Rest(system::user_event) },
        ],
    },
    Resource {
        name: "applications",
        description: "Stasis application resources",
        models: &["Application"],
        operations: &[
            Operation { path: "/applications", method: Get, nickname: "list", summary: "List all applications.", response_class: "List[Application]",
                params: &[], errors: &[], handler: Rest(system::applications) },
            Operation { path: "/applications/{applicationName}", method: Get, nickname: "get", summary: "Get details of an application.", response_class: "Application",
                params: &[path("applicationName", "Application's name")], errors: &[(404, "Application does not exist.")], handler: Rest(system::application_get) },
            Operation { path: "/applications/{applicationName}/subscription", method: Post, nickname: "subscribe", summary: "Subscribe an application to a event source.", response_class: "Application",
                params: &[path("applicationName", "Application's name"), query("eventSource", "string", "URI for event source").required().multiple()],
                errors: &[(404, "Application does not exist.")], handler: NotImplemented },
            Operation { path: "/applications/{applicationName}/subscription", method: Delete, nickname: "unsubscribe", summary: "Unsubscribe an application from an event source.", response_class: "Application",
                params: &[path("applicationName", "Application's name"), query("eventSource", "string", "URI for event source").required().multiple()],
                errors: &[(404, "Application does not exist.")], handler: NotImplemented },
        ],
    },
];
