"""Click commands, one module each; they only parse, call and print."""
