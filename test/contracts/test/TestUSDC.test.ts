import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { USDC, USDC_TYPES as TYPES, deploy, latestTimestamp, tokenDomain } from "../helpers";

async function fixture() {
  const [owner, alice, bob, carol] = await ethers.getSigners();
  const usdc = await deploy("TestUSDC");
  await usdc.mint(alice.address, USDC(100));
  return { usdc, owner, alice, bob, carol };
}

describe("TestUSDC", function () {
  it("looks like USDC on Base: metadata and EIP-712 domain", async function () {
    const { usdc } = await loadFixture(fixture);
    expect(await usdc.name()).to.equal("USD Coin");
    expect(await usdc.symbol()).to.equal("USDC");
    expect(await usdc.decimals()).to.equal(6);
    expect(await usdc.version()).to.equal("2");
    expect(await usdc.DOMAIN_SEPARATOR()).to.equal(ethers.TypedDataEncoder.hashDomain(await tokenDomain(usdc)));
    expect(await usdc.totalSupply()).to.equal(USDC(100));
  });

  describe("mint", function () {
    it("is for the owner only", async function () {
      const { usdc, alice } = await loadFixture(fixture);
      await expect(usdc.connect(alice).mint(alice.address, 1))
        .to.be.revertedWithCustomError(usdc, "OwnableUnauthorizedAccount")
        .withArgs(alice.address);
    });

    it("refuses the zero address, a blacklisted account and a supply reaching the blacklist bit", async function () {
      const { usdc, bob } = await loadFixture(fixture);
      await expect(usdc.mint(ethers.ZeroAddress, 1))
        .to.be.revertedWithCustomError(usdc, "ERC20InvalidReceiver")
        .withArgs(ethers.ZeroAddress);
      await usdc.blacklist(bob.address);
      await expect(usdc.mint(bob.address, 1)).to.be.revertedWithCustomError(usdc, "TestUSDCBlacklisted");
      const limit = 1n << 255n;
      await expect(usdc.mint(ethers.Wallet.createRandom().address, limit - USDC(100)))
        .to.be.revertedWithCustomError(usdc, "TestUSDCSupplyOverflow")
        .withArgs(limit);
    });
  });

  describe("ERC-20", function () {
    it("transfers, approves and always spends the allowance", async function () {
      const { usdc, alice, bob, carol } = await loadFixture(fixture);
      await expect(usdc.connect(alice).transfer(bob.address, USDC(1))).to.changeTokenBalances(
        usdc,
        [alice, bob],
        [-USDC(1), USDC(1)],
      );
      await expect(usdc.connect(alice).approve(carol.address, ethers.MaxUint256))
        .to.emit(usdc, "Approval")
        .withArgs(alice.address, carol.address, ethers.MaxUint256);
      await usdc.connect(carol).transferFrom(alice.address, bob.address, USDC(2));
      expect(await usdc.allowance(alice.address, carol.address)).to.equal(ethers.MaxUint256 - USDC(2));
    });

    it("keeps a transfer to oneself neutral", async function () {
      const { usdc, alice } = await loadFixture(fixture);
      await expect(usdc.connect(alice).transfer(alice.address, USDC(5))).to.changeTokenBalance(usdc, alice, 0);
    });

    it("refuses overspending, a missing allowance and the zero address", async function () {
      const { usdc, alice, bob } = await loadFixture(fixture);
      await expect(usdc.connect(alice).transfer(bob.address, USDC(101)))
        .to.be.revertedWithCustomError(usdc, "ERC20InsufficientBalance")
        .withArgs(alice.address, USDC(100), USDC(101));
      await expect(usdc.connect(bob).transferFrom(alice.address, bob.address, 1))
        .to.be.revertedWithCustomError(usdc, "ERC20InsufficientAllowance")
        .withArgs(bob.address, 0, 1);
      await expect(usdc.connect(alice).transfer(ethers.ZeroAddress, 1))
        .to.be.revertedWithCustomError(usdc, "ERC20InvalidReceiver")
        .withArgs(ethers.ZeroAddress);
    });
  });

  describe("blacklist", function () {
    it("stops a blacklisted account sending, receiving, spending and approving, until lifted", async function () {
      const { usdc, owner, alice, bob, carol } = await loadFixture(fixture);
      await usdc.connect(alice).approve(carol.address, USDC(10));
      await expect(usdc.blacklist(bob.address)).to.emit(usdc, "Blacklisted").withArgs(bob.address);
      expect(await usdc.isBlacklisted(bob.address)).to.equal(true);
      await expect(usdc.connect(alice).transfer(bob.address, 1))
        .to.be.revertedWithCustomError(usdc, "TestUSDCBlacklisted")
        .withArgs(bob.address);

      await usdc.blacklist(alice.address);
      expect(await usdc.balanceOf(alice.address)).to.equal(USDC(100));
      await expect(usdc.connect(alice).transfer(carol.address, 1))
        .to.be.revertedWithCustomError(usdc, "TestUSDCBlacklisted")
        .withArgs(alice.address);
      await expect(usdc.connect(carol).transferFrom(alice.address, carol.address, 1))
        .to.be.revertedWithCustomError(usdc, "TestUSDCBlacklisted")
        .withArgs(alice.address);
      await expect(usdc.connect(alice).approve(carol.address, 1))
        .to.be.revertedWithCustomError(usdc, "TestUSDCBlacklisted")
        .withArgs(alice.address);

      await expect(usdc.unBlacklist(alice.address)).to.emit(usdc, "UnBlacklisted").withArgs(alice.address);
      await usdc.blacklist(carol.address);
      await expect(usdc.connect(carol).transferFrom(alice.address, owner.address, 1))
        .to.be.revertedWithCustomError(usdc, "TestUSDCBlacklisted")
        .withArgs(carol.address);
      await expect(usdc.connect(alice).transfer(owner.address, 1)).to.changeTokenBalance(usdc, owner, 1);
    });

    it("is for the owner only", async function () {
      const { usdc, alice } = await loadFixture(fixture);
      await expect(usdc.connect(alice).blacklist(alice.address)).to.be.revertedWithCustomError(
        usdc,
        "OwnableUnauthorizedAccount",
      );
      await expect(usdc.connect(alice).unBlacklist(alice.address)).to.be.revertedWithCustomError(
        usdc,
        "OwnableUnauthorizedAccount",
      );
    });
  });

  describe("permit (EIP-2612)", function () {
    it("approves on the owner's signature, once, until the deadline", async function () {
      const { usdc, alice, bob } = await loadFixture(fixture);
      const deadline = (await latestTimestamp()) + 100n;
      const message = { owner: alice.address, spender: bob.address, value: USDC(7), nonce: 0n, deadline };
      const sig = ethers.Signature.from(await alice.signTypedData(await tokenDomain(usdc), TYPES.Permit, message));
      await usdc.permit(alice.address, bob.address, USDC(7), deadline, sig.v, sig.r, sig.s);
      expect(await usdc.allowance(alice.address, bob.address)).to.equal(USDC(7));
      expect(await usdc.nonces(alice.address)).to.equal(1);
      await expect(
        usdc.permit(alice.address, bob.address, USDC(7), deadline, sig.v, sig.r, sig.s),
      ).to.be.revertedWithCustomError(usdc, "TestUSDCInvalidSignature");

      const late = { ...message, nonce: 1n };
      const lateSig = ethers.Signature.from(await alice.signTypedData(await tokenDomain(usdc), TYPES.Permit, late));
      await time.increaseTo(deadline + 1n);
      await expect(usdc.permit(alice.address, bob.address, USDC(7), deadline, lateSig.v, lateSig.r, lateSig.s))
        .to.be.revertedWithCustomError(usdc, "TestUSDCExpiredPermit")
        .withArgs(deadline);
    });
  });

  describe("EIP-3009", function () {
    async function sign(kind: "TransferWithAuthorization" | "ReceiveWithAuthorization", overrides = {}) {
      const { usdc, alice, bob } = await loadFixture(fixture);
      const message = {
        from: alice.address,
        to: bob.address,
        value: USDC(3),
        validAfter: 0n,
        validBefore: (await latestTimestamp()) + 100n,
        nonce: ethers.hexlify(ethers.randomBytes(32)),
        ...overrides,
      };
      const signature = await alice.signTypedData(await tokenDomain(usdc), TYPES[kind], message);
      const args = [
        message.from,
        message.to,
        message.value,
        message.validAfter,
        message.validBefore,
        message.nonce,
        signature,
      ] as const;
      return { usdc, alice, bob, message, args };
    }

    it("transferWithAuthorization: anyone submits, once", async function () {
      const { usdc, alice, bob, message, args } = await sign("TransferWithAuthorization");
      const [, , , carol] = await ethers.getSigners();
      const tx = usdc.connect(carol).transferWithAuthorization(...args);
      await expect(tx).to.emit(usdc, "AuthorizationUsed").withArgs(alice.address, message.nonce);
      await expect(tx).to.changeTokenBalances(usdc, [alice, bob], [-USDC(3), USDC(3)]);
      expect(await usdc.authorizationState(alice.address, message.nonce)).to.equal(true);
      await expect(usdc.transferWithAuthorization(...args))
        .to.be.revertedWithCustomError(usdc, "TestUSDCAuthorizationUsed")
        .withArgs(alice.address, message.nonce);
    });

    it("refuses an authorization before validAfter, at validBefore, or for other values", async function () {
      const { usdc, message, args } = await sign("TransferWithAuthorization");
      await expect(usdc.transferWithAuthorization(args[0], args[1], args[2] + 1n, ...args.slice(3)))
        .to.be.revertedWithCustomError(usdc, "TestUSDCInvalidSignature");
      await time.setNextBlockTimestamp(message.validBefore);
      await expect(usdc.transferWithAuthorization(...args))
        .to.be.revertedWithCustomError(usdc, "TestUSDCAuthorizationNotValidNow")
        .withArgs(message.validAfter, message.validBefore);

      const future = await sign("TransferWithAuthorization", {
        validAfter: (await latestTimestamp()) + 50n,
        validBefore: (await latestTimestamp()) + 100n,
      });
      await expect(future.usdc.transferWithAuthorization(...future.args)).to.be.revertedWithCustomError(
        future.usdc,
        "TestUSDCAuthorizationNotValidNow",
      );
    });

    it("receiveWithAuthorization: only the payee submits", async function () {
      const { usdc, alice, bob, args } = await sign("ReceiveWithAuthorization");
      await expect(usdc.connect(alice).receiveWithAuthorization(...args))
        .to.be.revertedWithCustomError(usdc, "TestUSDCCallerMustBePayee")
        .withArgs(alice.address, bob.address);
      await expect(usdc.connect(bob).receiveWithAuthorization(...args)).to.changeTokenBalance(usdc, bob, USDC(3));
    });

    it("cancelAuthorization: the authorizer voids an unused nonce", async function () {
      const { usdc, alice, bob, message, args } = await sign("ReceiveWithAuthorization");
      const cancel = { authorizer: alice.address, nonce: message.nonce };
      const domain = await tokenDomain(usdc);
      const byBob = await bob.signTypedData(domain, TYPES.CancelAuthorization, cancel);
      await expect(usdc.cancelAuthorization(alice.address, message.nonce, byBob)).to.be.revertedWithCustomError(
        usdc,
        "TestUSDCInvalidSignature",
      );
      const signature = await alice.signTypedData(domain, TYPES.CancelAuthorization, cancel);
      await expect(usdc.cancelAuthorization(alice.address, message.nonce, signature))
        .to.emit(usdc, "AuthorizationCanceled")
        .withArgs(alice.address, message.nonce);
      await expect(usdc.connect(bob).receiveWithAuthorization(...args)).to.be.revertedWithCustomError(
        usdc,
        "TestUSDCAuthorizationUsed",
      );
      await expect(usdc.cancelAuthorization(alice.address, message.nonce, signature)).to.be.revertedWithCustomError(
        usdc,
        "TestUSDCAuthorizationUsed",
      );
    });
  });
});
