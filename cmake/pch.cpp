// Translation unit that owns the shared precompiled header (see DivrecCompiler.cmake).
