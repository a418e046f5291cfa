# bash completion for weft and weftd -*- shell-script -*-
#
# Installed as share/bash-completion/completions/weft and .../weftd, where
# bash-completion loads it on the first Tab after either name; or source it
# from ~/.bashrc. It completes:
#   weft COMMAND          the commands `weft --help` lists
#   options               those the program's (or command's) --help lists,
#                         read at completion time: new options need no
#                         change here
#   option values         --sched=perf|schedstat|none, --format chrome-json,
#                         files after -o, directories after --trace-dir, ...
#   trace files           *.db (and directories) where a trace is read
#   weft record -- CMD    commands, then CMD's own completion
# It needs nothing but bash; bash-completion's helpers are used when loaded.

# The options PROGRAM [COMMAND] --help lists, one a line; "--sched=MODE"
# gives "--sched=".
_weft_help_options()
{
	"$@" --help 2>/dev/null |
		grep -oE '(^|[][[:space:](|,])--?[A-Za-z][A-Za-z0-9-]*=?' |
		sed -E 's/^[][[:space:](|,]//' | sort -u
}

# The commands `weft --help` lists (lines "  NAME   summary").
_weft_help_commands()
{
	"$1" --help 2>/dev/null | sed -nE 's/^  ([a-z][a-z0-9-]*) +[^ -].*/\1/p'
}

# COMPREPLY += trace files (*.db) and directories matching $1.
_weft_traces()
{
	local IFS=$'\n'
	compopt -o filenames 2>/dev/null
	COMPREPLY+=($(compgen -d -- "$1") $(compgen -f -X '!*.db' -- "$1"))
}

# COMPREPLY += any file (or, with -d, directory) matching $1.
_weft_files()
{
	local IFS=$'\n' kind=-f
	[[ $1 == -d ]] && kind=-d && shift
	compopt -o filenames 2>/dev/null
	COMPREPLY+=($(compgen $kind -- "$1"))
}

# COMPREPLY += the words of $2 (space-separated) that start with $1; no
# space after an option that ends in '='.
_weft_words()
{
	COMPREPLY+=($(compgen -W "$2" -- "$1"))
	if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
		compopt -o nospace 2>/dev/null
	fi
}

# Sets cur, and opt (the option whose value is being typed, or empty)
# from COMP_WORDS/COMP_CWORD, whether or not COMP_WORDBREAKS splits
# "--sched=perf" at '='.
_weft_current()
{
	cur=${COMP_WORDS[COMP_CWORD]}
	local prev=
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	opt=
	if [[ $cur == --*=* ]]; then
		opt=${cur%%=*}=
		cur=${cur#*=}
	elif [[ $cur == = && $COMP_CWORD -gt 1 ]]; then
		opt=${prev}=
		cur=
	elif [[ $prev == = && $COMP_CWORD -gt 2 ]]; then
		opt=${COMP_WORDS[COMP_CWORD - 2]}=
	elif [[ $prev == -* ]]; then
		opt=$prev
	fi
}

# The program as typed (a path or a name on PATH), ~ expanded.
_weft_program()
{
	local program=${COMP_WORDS[0]}
	[[ $program == "~/"* ]] && program=$HOME/${program#"~/"}
	printf '%s\n' "$program"
}

_weft_record()
{
	local program=$1 i at=-1
	# Where the recorded command is: the word after "--", else the first
	# word that is neither an option nor an option's value.
	for ((i = $2; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--) at=$((i + 1)); break ;;
		-o | --output | --attach | --shm | --ready-fd | --keep-last | --max-size | --duration | =)
			((i++)) ;;
		-*) ;;
		*) at=$i; break ;;
		esac
	done
	if ((at == COMP_CWORD)) || { ((at < 0)) && [[ -z $opt && $cur != -* ]]; }; then
		COMPREPLY+=($(compgen -c -- "$cur"))
		return
	fi
	if ((at >= 0)); then
		if declare -F _command_offset >/dev/null; then
			_command_offset "$at"
		else
			_weft_files "$cur"
		fi
		return
	fi
	case $opt in
	--sched=) _weft_words "$cur" "perf schedstat none" ;;
	-o | --output | --shm) _weft_files "$cur" ;;
	--attach) _weft_words "$cur" "$(cd /proc && compgen -G '[0-9]*')" ;;
	--keep-last | --duration) _weft_words "$cur" "30s 5m 1h" ;;
	--max-size) _weft_words "$cur" "100M 500M 2G" ;;
	*)
		if [[ $cur == -* ]]; then
			_weft_words "$cur" "$(_weft_help_options "$program" record) --"
		else
			COMPREPLY+=($(compgen -c -- "$cur"))
		fi
		;;
	esac
}

_weft()
{
	local cur opt program command i
	COMPREPLY=()
	_weft_current
	program=$(_weft_program)
	# The command: the first word that is not an option.
	for ((i = 1; i < COMP_CWORD; i++)); do
		[[ ${COMP_WORDS[i]} != -* ]] && command=${COMP_WORDS[i]} && break
	done
	if [[ -z $command ]]; then
		if [[ $cur == -* ]]; then
			_weft_words "$cur" "$(_weft_help_options "$program")"
		else
			_weft_words "$cur" "$(_weft_help_commands "$program")"
		fi
		return
	fi
	case $command in
	record) _weft_record "$program" $((i + 1)); return ;;
	help) _weft_words "$cur" "$(_weft_help_commands "$program")"; return ;;
	esac
	case $opt in
	--format | --format=) _weft_words "$cur" "chrome-json"; return ;;
	-o | --output) _weft_files "$cur"; return ;;
	esac
	if [[ $cur == -* ]]; then
		_weft_words "$cur" "$(_weft_help_options "$program" "$command")"
	else
		_weft_traces "$cur"
	fi
}

_weftd()
{
	local cur opt program
	COMPREPLY=()
	_weft_current
	program=$(_weft_program)
	case $opt in
	--listen | --listen=) _weft_words "$cur" "127.0.0.1:7878 127.0.0.1:0"; return ;;
	--sql-timeout) return ;;
	--trace-dir) _weft_files -d "$cur"; return ;;
	--socket) _weft_files "$cur"; return ;;
	esac
	if [[ $cur == -* ]]; then
		_weft_words "$cur" "$(_weft_help_options "$program")"
	else
		_weft_traces "$cur"
	fi
}

complete -F _weft weft
complete -F _weftd weftd
