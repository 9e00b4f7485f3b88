/* The planner's work: filled in by its own change. */
"use strict";
