# Shared by the comparison scripts in benches/*/run.sh (sourced, not run).

find_tool() { # prints the first of its arguments that is an executable command
    local c
    for c in "$@"; do
        if [[ -n "$c" ]] && command -v "$c" >/dev/null 2>&1; then
            command -v "$c"
            return 0
        fi
    done
    return 1
}

# pick_tool VAR DEFAULT…: the tool environment variable VAR names when it is set (only that
# one; set to "" to skip the tool), else the first DEFAULT found; nothing if none is.
pick_tool() {
    local var="$1"
    shift
    if [[ -n "${!var+set}" ]]; then
        find_tool "${!var}" || true
    else
        find_tool "$@" || true
    fi
}
