"""Social platforms behind one small interface (see base.SocialProvider)."""
