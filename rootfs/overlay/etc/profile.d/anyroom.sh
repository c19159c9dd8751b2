# anyroomctl talks to the system's anyroomd.
export XDG_RUNTIME_DIR=/run
