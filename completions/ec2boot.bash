# bash completion for ec2boot. Generated from the command table by cmd/ec2boot's
# tests (make man); do not edit.

_ec2boot() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd= i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        -*) continue ;;
        esac
        case ${COMP_WORDS[i-1]} in
        --config|--imds-endpoint|--lock-wait|--log-format|--root) continue ;;
        esac
        cmd=${COMP_WORDS[i]}
        break
    done
    case $prev in
    --root)
        COMPREPLY=($(compgen -d -- "$cur"))
        return
        ;;
    --config)
        COMPREPLY=($(compgen -f -- "$cur"))
        return
        ;;
    --imds-endpoint|--lock-wait|--log-format)
        COMPREPLY=()
        return
        ;;
    esac
    local opts="--config --imds-endpoint --log-format --root -v --verbose" words=
    case $cmd in
    "") words="facts plan prepare-image relocate run status validate version" ;;
    facts) opts="$opts --json" ;;
    plan) opts="$opts --force" ;;
    prepare-image) opts="$opts --apply" ;;
    relocate) ;;
    run) opts="$opts --force --lock-wait" ;;
    status) opts="$opts --json" ;;
    validate)
        [[ $cur == -* ]] || { COMPREPLY=($(compgen -f -- "$cur")); return; }
        ;;
    version) ;;
    *) return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
    fi
}
complete -F _ec2boot ec2boot
