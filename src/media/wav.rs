//! WAV sound file loading (8 kHz mono PCM16, mu-law, A-law).
