//! Prompt player: streams a sound as 20 ms frames.
