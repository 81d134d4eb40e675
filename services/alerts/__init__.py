"""主动发现: rules over Doudi's own data, and the engine that turns what they find into alerts."""
