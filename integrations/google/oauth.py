from allauth.socialaccount.adapter import DefaultSocialAccountAdapter


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Google accounts are connected to a signed-in user, never used to sign up."""

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False
