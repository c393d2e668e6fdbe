# bash completion for backend-api, the command-line client of the backend-api library.
# Installed as share/bash-completion/completions/backend-api; or: source this file.

_backend_api() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local opts="--url --protocol --model --provider --system --attach --media --field --header --key-in
        --proxy --cacert --insecure --retries --connect-timeout --headers-timeout
        --idle-timeout --total-timeout --max-line --raw --json --quiet --verbose --color
        --hide-reasoning --show-reasoning --render --save-media --list-providers --raw-terminal --continue --conversation --no-log --config --no-config --list-models
        --version --help -u -m -p -s -a -H -k -q -v -c -K -V -h"
    COMPREPLY=()
    # --name=value: complete the value as if it were the next word. Bash splits the
    # words at "=" (COMP_WORDBREAKS), unless told otherwise.
    if [[ $cur == = ]]; then
        cur=''
    elif [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    elif [[ $cur == --*=* ]]; then
        prev=${cur%%=*}
        cur=${cur#*=}
    fi
    case $prev in
        -a | --attach | --media | --cacert | -K | --config | --save-media)
            compopt -o filenames 2> /dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            return
            ;;
        --key-in) mapfile -t COMPREPLY < <(compgen -W "body bearer both" -- "$cur"); return ;;
        --protocol) mapfile -t COMPREPLY < <(compgen -W "backend openai" -- "$cur"); return ;;
        --color | --render) mapfile -t COMPREPLY < <(compgen -W "auto always never" -- "$cur"); return ;;
        --conversation)
            local dir=${XDG_STATE_HOME:-$HOME/.local/state}/backend-api/conversations ids=()
            [ -d "$dir" ] && mapfile -t ids < <(cd "$dir" && ls -t -- *.json 2> /dev/null | sed 's/\.json$//')
            mapfile -t COMPREPLY < <(compgen -W "${ids[*]}" -- "$cur")
            return
            ;;
        --proxy) mapfile -t COMPREPLY < <(compgen -W "none" -- "$cur"); return ;;
        -u | --url)
            compopt -o nospace 2> /dev/null
            mapfile -t COMPREPLY < <(compgen -W "http://127.0.0.1:1337 http://127.0.0.1:8080" -- "$cur")
            return
            ;;
        -m | --model | -p | --provider | -s | --system | --field | -H | --header | --retries | \
            --connect-timeout | --headers-timeout | --idle-timeout | --total-timeout | --max-line)
            return # a value of the user's own
            ;;
    esac
    if [[ $COMP_CWORD == 1 && $cur != -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "logs" -- "$cur")
    elif [[ $cur == -* ]]; then
        # shellcheck disable=SC2086  # the option list is split on purpose
        mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
    fi
}
complete -F _backend_api backend-api
