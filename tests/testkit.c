int testkit_placeholder;
