// Package config reads blimp's TOML configuration: the defaults embedded from the
// repository's config.toml, overlaid by an optional user file, then checked.
//
// Unknown keys and out-of-range values are errors that name the key and say what is
// allowed, so a typo never silently falls back to a default.
//
// Concurrency: a Config is a plain value; it is built once at start and only read after.
package config
