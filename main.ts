trace("placeholder\n");
