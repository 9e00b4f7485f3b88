/* The dispatcher's work (see dispatch flow): filled in by its own change. */
"use strict";
