# The examples in the docs stay runnable: every `trendgpu-bench ...` line of
# a code block in README.md and docs/ names a command that exists, and
# every --option it uses is one that command's --help lists. (Usage lines,
# with [ ] or |, are skipped.)
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
checked=0
while IFS=: read -r file line text; do
	cmdline=${text#*trendgpu-bench }
	cmdline=${cmdline%%#*}
	case $cmdline in *"["* | *"|"* | *"<"* | *"..."*) continue ;; esac
	read -r -a words <<<"$cmdline"
	cmd=${words[0]:-}
	case $cmd in --help | --version | -h | "") continue ;; --*) cmd=run ;; esac
	help="$TG_WORK/help-$cmd"
	if [ ! -s "$help" ]; then
		"$TG_BIN" "$cmd" --help >"$help" 2>&1 || fail "$file:$line: 'trendgpu-bench $cmd' is not a command"
	fi
	for w in "${words[@]}"; do
		case $w in
		--) break ;; # what follows is the profiled program's
		--*)
			opt=${w%%=*}
			grep -qE -- "(^|[ ,])$opt([ =,]|$)" "$help" ||
				fail "$file:$line: '$opt' is not an option of '$cmd' ($text)"
			;;
		esac
	done
	checked=$((checked + 1))
done < <(cd "$root" && awk 'FNR == 1 { inblock = 0 } /^```/ { inblock = !inblock; next }
	inblock && /^(\$ )?(\.\/build\/)?trendgpu-bench / { sub(/^\$ /, ""); sub(/^\.\/build\//, ""); print FILENAME ":" FNR ":" $0 }' \
	README.md docs/*.md docs/commands/*.md)
[ "$checked" -gt 20 ] || fail "only $checked examples found in the docs"
echo "ok: $checked examples in the docs name real commands and options"
