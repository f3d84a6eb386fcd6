# bash completion for ec2boot. Generated from bootstrap/cli's command table by
# internal/cmddoc (make man); do not edit.

_ec2boot() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd= i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        -*) continue ;;
        esac
        case ${COMP_WORDS[i-1]} in
        --config|--facts|--imds-endpoint|--lock-wait|--log-format|--root|--timeout) continue ;;
        esac
        cmd=${COMP_WORDS[i]}
        break
    done
    case $prev in
    --log-format)
        COMPREPLY=($(compgen -W "auto console json journal" -- "$cur"))
        return
        ;;
    --root)
        COMPREPLY=($(compgen -d -- "$cur"))
        return
        ;;
    --config|--facts)
        COMPREPLY=($(compgen -f -- "$cur"))
        return
        ;;
    --imds-endpoint|--lock-wait|--timeout)
        COMPREPLY=()
        return
        ;;
    esac
    local opts="--root --config --imds-endpoint --log-format --verbose -v" words=
    case $cmd in
    "")
        opts="$opts --help -h --version"
        words="run plan facts validate status relocate stop prepare-image version help"
        ;;
    run)
        opts="$opts --force --lock-wait"
        ;;
    plan)
        opts="$opts --force --detailed-exitcode"
        ;;
    facts)
        opts="$opts --json"
        ;;
    validate)
        opts="$opts --facts"
        [[ $cur == -* ]] || { COMPREPLY=($(compgen -f -- "$cur")); return; }
        ;;
    status)
        opts="$opts --json"
        ;;
    relocate)
        ;;
    stop)
        opts="$opts --timeout"
        ;;
    prepare-image)
        opts="$opts --apply"
        ;;
    version)
        ;;
    help)
        words="run plan facts validate status relocate stop prepare-image version help"
        ;;
    *) return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
    fi
}
complete -F _ec2boot ec2boot
