/* ALBM: albmd's dashboard page — src/distributor/dashboard.html, embedded with .incbin
 *
 * The page is kept as a file of its own (readable, editable as HTML) and placed in
 * albmd's read-only data by the assembler, so albmd needs no file at run time for it;
 * the Makefile makes this object depend on the .html.  The path is relative to the
 * repository root, where make runs the compiler.
 */
#include "distributor/dashboard.h"

__asm__(".section .rodata\n"
	".global albmd_dashboard_html\n"
	".type albmd_dashboard_html, @object\n"
	".balign 16\n"
	"albmd_dashboard_html:\n"
	".incbin \"src/distributor/dashboard.html\"\n"
	"albmd_dashboard_html_end:\n"
	".byte 0\n"
	".size albmd_dashboard_html, . - albmd_dashboard_html\n"
	".balign 8\n"
	".global albmd_dashboard_html_len\n"
	".type albmd_dashboard_html_len, @object\n"
	"albmd_dashboard_html_len:\n"
	".quad albmd_dashboard_html_end - albmd_dashboard_html\n"
	".size albmd_dashboard_html_len, 8\n"
	".previous\n");
