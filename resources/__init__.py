"""Files bundled with xlbatch (sample workbooks, icons, the style sheet), found via `xlbatch.bundle`."""
