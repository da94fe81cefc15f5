//! Built-in prompts (embedded in the binary) and lookup by name with a sounds-directory override.
