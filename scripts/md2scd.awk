# ALBM: man page sources — copy an scdoc template, replacing each line
#   @md FILE@            by FILE (markdown) converted to scdoc, its "# title" left out
#   @md FILE SECTION@    by the "## SECTION" of FILE (to the next "## "), heading left out
# so that the man pages and docs/ share one text (docs/man/*.scd.in, mk/dist.mk).
#
# The markdown is the subset docs/ uses: ##/### headings, paragraphs, `code`, **bold**,
# *emphasis*, [links](target), "* " and "1. " lists with indented continuation lines,
# ``` and 4-space code blocks, and | tables | (each row becomes a term and an indented
# paragraph: "*first cell*", then "Header: cell." for the middle cells, then the last).
#
#   awk -f scripts/md2scd.awk docs/man/albmd.conf.5.scd.in > build/man/albmd.conf.5.scd

/^@md [^ @]+( [^@]+)?@$/ {
	spec = substr($0, 5, length($0) - 5)
	file = spec; section = ""
	if ((i = index(spec, " ")) > 0) {
		file = substr(spec, 1, i - 1); section = substr(spec, i + 1)
	}
	convert(file, section)
	next
}
{ print }

function die(msg) {
	print "md2scd: " msg > "/dev/stderr"
	exit 1
}

# Escape what scdoc would read as formatting in plain text: * and a leading _.
function plain(s,    out) {
	gsub(/\\/, "\\\\\\\\", s)
	gsub(/\*/, "\\*", s)
	out = ""
	while (match(s, /(^|[^A-Za-z0-9])_/)) {
		out = out substr(s, 1, RSTART + RLENGTH - 2) "\\_"
		s = substr(s, RSTART + RLENGTH)
	}
	return out s
}

# Inline markdown -> scdoc: `code` and **bold** -> *bold*, *em* -> _em_, links -> text.
function inline(s,    out, i, j, code) {
	gsub(/\\\|/, "|", s)
	out = ""
	while ((i = index(s, "`")) > 0) {
		j = index(substr(s, i + 1), "`")
		if (j == 0)
			break
		code = substr(s, i + 1, j - 1)
		gsub(/\\/, "\\\\\\\\", code)
		gsub(/\*/, "\\*", code)
		gsub(/_/, "\\_", code)
		out = out text(substr(s, 1, i - 1)) "*" code "*"
		s = substr(s, i + j + 1)
	}
	return out text(s)
}

function text(s,    out, pre, st, len, t, tg) {
	# links: [text](target) -> text (target) for URLs, text alone for docs/ anchors
	while (match(s, /\[[^]]+\]\([^)]+\)/)) {
		pre = substr(s, RSTART, RLENGTH)
		t = substr(pre, 2, index(pre, "](") - 2)
		tg = substr(pre, index(pre, "](") + 2); tg = substr(tg, 1, length(tg) - 1)
		sub(/#.*/, "", tg)
		s = substr(s, 1, RSTART - 1) t (tg != "" && tg != t ? " (" tg ")" : "") \
			substr(s, RSTART + RLENGTH)
	}
	out = ""
	while (match(s, /\*\*[^*]+\*\*|\*[^* ][^*]*\*/)) {
		st = RSTART; len = RLENGTH   # plain() calls match() too
		pre = substr(s, st, len)
		if (substr(pre, 1, 2) == "**")
			pre = "*" plain(substr(pre, 3, length(pre) - 4)) "*"
		else
			pre = "_" plain(substr(pre, 2, length(pre) - 2)) "_"
		out = out plain(substr(s, 1, st - 1)) pre
		s = substr(s, st + len)
	}
	return out plain(s)
}

# A paragraph or list item is gathered whole (bold and code may span its lines), then
# converted: item_pre is "" for a paragraph, "- " or ". " for list items.
function flush_item() {
	if (item != "")
		print item_pre inline(item)
	item = ""
}

# Split a table row into cells[1..n] (escaped pipes stay in their cell).
function cells_of(line, cells,    n, cur, c, k) {
	sub(/^[ \t]*\|/, "", line); sub(/\|[ \t]*$/, "", line)
	n = 0; cur = ""
	for (k = 1; k <= length(line); k++) {
		c = substr(line, k, 1)
		if (c == "\\" && substr(line, k + 1, 1) == "|") {
			cur = cur "\\|"; k++
		} else if (c == "|") {
			cells[++n] = cur; cur = ""
		} else {
			cur = cur c
		}
	}
	cells[++n] = cur
	for (k = 1; k <= n; k++) {
		sub(/^[ \t]+/, "", cells[k]); sub(/[ \t]+$/, "", cells[k])
	}
	return n
}

function table_row(line,    cells, n, k, body, h) {
	n = cells_of(line, cells)
	if (!nhead) {
		nhead = n
		for (k = 1; k <= n; k++)
			head[k] = cells[k]
		return
	}
	if (cells[1] ~ /^:?-+:?$/)
		return
	print "*" strip_bold(inline(cells[1])) "*"
	body = ""
	for (k = 2; k < n; k++) {
		h = head[k]
		body = body toupper(substr(h, 1, 1)) substr(h, 2) ": " inline(cells[k]) ". "
	}
	print "\t" body (n > 1 ? inline(cells[n]) : "")
	print ""
}

# The first cell is set in bold as a whole: its own code spans lose their asterisks.
function strip_bold(s) {
	gsub(/(^|[^\\])\*/, "&\001", s)
	gsub(/\*\001/, "", s)
	gsub(/\001/, "", s)
	return s
}

function convert(file, section,    line, on, depth, fence, icode, in_table, h, t, rc) {
	on = (section == "")
	fence = 0; icode = 0; in_table = 0; item = ""; nhead = 0
	while ((rc = getline line < file) > 0) {
		if (line ~ /^```/) {
			if (on) {
				flush_item()
				print "```"
			}
			fence = !fence
			continue
		}
		if (fence) {
			if (on)
				print line
			continue
		}
		if (icode) { # an indented code block ends at the first line not indented
			if (line ~ /^    / || line == "") {
				if (line != "")
					print substr(line, 5)
				continue
			}
			print "```"
			print ""
			icode = 0
		}
		if (line ~ /^#+ /) {
			match(line, /^#+/); depth = RLENGTH
			h = substr(line, depth + 2)
			if (depth == 1)
				continue
			if (section != "" && depth == 2) {
				if (on)
					break
				on = (h == section)
				continue
			}
			if (!on)
				continue
			flush_item(); in_table = 0
			# headings are set in bold already: no formatting; upper case as man
			# pages have it, except where the heading names a directive
			t = h
			gsub(/`/, "", t)
			if (t == h)
				t = toupper(t)
			print (section == "" && depth == 2 ? "# " : "## ") plain(t)
			print ""
			continue
		}
		if (!on)
			continue
		if (line ~ /^[ \t]*\|/) {
			flush_item()
			if (!in_table)
				nhead = 0
			in_table = 1
			table_row(line)
			continue
		}
		in_table = 0
		if (line ~ /^    [^ ]/ && item == "") {
			print "```"
			print substr(line, 5)
			icode = 1
			continue
		}
		if (line ~ /^[*-] /) {
			flush_item()
			item_pre = "- "; item = substr(line, 3)
			continue
		}
		if (line ~ /^[0-9]+\. /) {
			flush_item()
			sub(/^[0-9]+\. /, "", line)
			item_pre = ". "; item = line
			continue
		}
		if (line ~ /^[ \t]*$/) {
			flush_item()
			print ""
			continue
		}
		sub(/^ +/, "", line)
		if (item != "") {
			item = item " " line
			continue
		}
		item_pre = ""; item = line
	}
	if (rc < 0)
		die("cannot read " file)
	if (icode)
		print "```"
	flush_item()
	close(file)
	if (fence)
		die(file ": unterminated ``` block")
	if (!on && section != "")
		die(file ": no section '## " section "'")
}
